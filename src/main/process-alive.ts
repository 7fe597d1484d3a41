// Whether a process id is running: a leaf helper (imports nothing of ours) for locks that a dead process
// may have left behind.

/** True when `pid` is a running process (EPERM: it runs, under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
