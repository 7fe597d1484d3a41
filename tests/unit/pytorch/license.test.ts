// The card's non-commercial warning: Creative Commons NC variants and the words, not every "nc" in a text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isNonCommercial } from '#shared/license';

test('non-commercial licences are told from the others', () => {
  for (const text of ['CC BY-NC-SA 4.0', 'CC-BY-NC-4.0', 'NC', 'Non-commercial use only', 'noncommercial', 'Not for commercial use']) {
    assert.equal(isNonCommercial(text), true, text);
  }
  for (const text of [null, '', 'MIT', 'Apache-2.0', 'CC BY 4.0', 'CC0', 'GPL-3.0, see NCSA terms', 'commercial use allowed', 'BSD license, Cincinnati']) {
    assert.equal(isNonCommercial(text), false, String(text));
  }
});
