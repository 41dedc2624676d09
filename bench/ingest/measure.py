#!/usr/bin/env python3
"""measure.py OUTFILE CMD [ARGS...]

Fallback for GNU `/usr/bin/time -o OUTFILE -f '%e %M'` when the Debian
`time` package is not installed. Runs CMD with this process's stdin, stdout
and stderr, then writes "ELAPSED_SECONDS PEAK_RSS_KB" to OUTFILE and exits
with CMD's exit status (128+signal if it was killed).
Python 3 standard library only.

Caveat: Linux carries the forked Python child's RSS high-water mark over
exec into ru_maxrss, so ru_maxrss has a floor of this interpreter's RSS
(~10 MB). When ru_maxrss is at that floor, the peak reported instead is the
exec'd program's own VmHWM, polled from /proc every 5 ms by a thread (can miss growth
in the last few ms of its life).
"""
import os
import resource
import sys
import threading
import time


def vmhwm_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def main(argv):
    if len(argv) < 3:
        sys.stderr.write("usage: measure.py OUTFILE CMD [ARGS...]\n")
        return 2
    out, cmd = argv[1], argv[2:]
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        except OSError as e:
            sys.stderr.write("measure.py: cannot run %s: %s\n" % (cmd[0], e))
            os._exit(127)
    polled = [0]
    done = threading.Event()

    def poll():
        while not done.is_set():
            polled[0] = max(polled[0], vmhwm_kb(pid))
            done.wait(0.005)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    _, status, ru = os.wait4(pid, 0)
    elapsed = time.monotonic() - t0
    done.set()
    poller.join()
    peak = ru.ru_maxrss
    if peak <= floor + 1024 and polled[0] > 0:
        peak = polled[0]
    with open(out, "w") as f:
        # ru_maxrss is in kilobytes on Linux, like GNU time's %M.
        f.write("%.3f %d\n" % (elapsed, peak))
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
