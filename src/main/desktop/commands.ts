// A small bus for commands the desktop shell sends to the UI (menu clicks, files from a second launch or
// dropped on the dock). The services expose it as the `app.command` event stream.
import type { AppCommand } from '#shared/contract';

export class CommandBus {
  private readonly listeners = new Set<(command: AppCommand) => void>();
  /** Commands sent before any window listened (e.g. files passed at launch) wait here. */
  private readonly backlog: AppCommand[] = [];

  send(command: AppCommand): void {
    if (this.listeners.size === 0) this.backlog.push(command);
    for (const l of this.listeners) l(command);
  }

  listen(listener: (command: AppCommand) => void): () => void {
    this.listeners.add(listener);
    for (const command of this.backlog.splice(0)) listener(command);
    return () => this.listeners.delete(listener);
  }
}
