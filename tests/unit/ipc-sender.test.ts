import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTrustedSender } from '../../src/main/security/ipc-sender';

test('only our window main frame on app:// may speak the protocol', () => {
  const mainFrame = { url: 'app://studio/index.html#/restore' };
  const contents = { mainFrame };
  const other = { mainFrame: { url: 'app://studio/index.html' } };
  assert.equal(isTrustedSender({ sender: contents, senderFrame: mainFrame }, contents), true);
  assert.equal(isTrustedSender({ sender: contents, senderFrame: { url: 'app://studio/x' } }, contents), false, 'a subframe');
  assert.equal(isTrustedSender({ sender: other, senderFrame: other.mainFrame }, contents), false, 'another window');
  assert.equal(isTrustedSender({ sender: contents, senderFrame: null }, contents), false, 'a destroyed frame');
  for (const url of ['https://evil.example/', 'file:///etc/passwd', 'app://studio.evil/index.html', 'app://studioo/']) {
    const frame = { url };
    assert.equal(isTrustedSender({ sender: { mainFrame: frame }, senderFrame: frame }, { mainFrame: frame }), false, url);
  }
});
