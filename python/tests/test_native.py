"""What the compiled core promises Python: a progress bar (tqdm) on a terminal unless quiet;
Ctrl-C stops a pull and removes what it wrote; the GIL is released while bytes move. The big suite (200 MB of
random weights, pushed once per session) is pulled through a proxy sending 40 MB/s, so that a
pull lasts about five seconds."""

from __future__ import annotations

import fcntl
import importlib.util
import os
import pty
import re
import shutil
import signal
import struct
import subprocess
import sys
import termios
import threading
import time

import zoo_oci
from conftest import BIG_SIZE, bench, sha256_file, small_suite

PULL_ON_A_TERMINAL = """
import sys, zoo_oci
zoo_oci.pull(sys.argv[1], sys.argv[2], plain_http=True, quiet=sys.argv[3] == "quiet")
print("pulled", flush=True)
"""


def pull_on_a_terminal(ref: str, dest, mode: str) -> bytes:
    """Runs a pull in a child whose stderr is a terminal (a pty of 100 columns, as a user's
    shell would be: tqdm draws no bar into a pipe or a log file); gives what it wrote there."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    p = subprocess.Popen(
        [sys.executable, "-c", PULL_ON_A_TERMINAL, ref, str(dest), mode],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    written = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        written += chunk
    out = p.stdout.read().decode()
    p.wait(timeout=120)
    os.close(master)
    assert p.returncode == 0 and out.strip() == "pulled", (p.returncode, out, bytes(written))
    return bytes(written)


def test_pull_draws_a_progress_bar_on_a_terminal_unless_quiet(registry, tmp_path, repo, capfd):
    assert importlib.util.find_spec("tqdm") is not None, "the test venv installs zoo-oci[progress] (tqdm)"
    suite = small_suite(tmp_path)
    ref = registry.at(f"{repo}:1.0.0")
    zoo_oci.push(suite, ref, plain_http=True, quiet=True)

    bar = pull_on_a_terminal(ref, tmp_path / "loud", "loud").decode(errors="replace")
    assert re.search(r"pull", bar) and re.search(r"[0-9.]+\s*[kMG]?B\b", bar), repr(bar)
    assert (tmp_path / "loud" / "README.md").is_file()
    assert pull_on_a_terminal(ref, tmp_path / "quiet", "quiet") == b"", "quiet=True writes nothing"

    # In this process (stderr captured, not a terminal): quiet pulls and pushes write nothing.
    capfd.readouterr()
    zoo_oci.pull(ref, tmp_path / "quiet-here", plain_http=True, quiet=True)
    zoo_oci.pull(ref, plain_http=True, quiet=True)  # into the cache too
    zoo_oci.push(suite, ref, plain_http=True, quiet=True)
    out, err = capfd.readouterr()
    assert (out, err) == ("", ""), f"quiet=True writes nothing: {err!r}"


INTERRUPTED_PULL = """
import sys, zoo_oci
print("started", flush=True)
zoo_oci.pull(sys.argv[1], sys.argv[2], plain_http=True, quiet=True)
print("finished", flush=True)
"""


def test_ctrl_c_stops_a_pull_and_leaves_nothing_behind(big_suite, slow_registry, tmp_path):
    parent = tmp_path / "pulls"
    parent.mkdir()
    dest = parent / "big"
    seen = slow_registry.mark()
    p = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED_PULL, slow_registry.at(f"{big_suite.repo}:{big_suite.tag}"), str(dest)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert p.stdout.readline().strip() == "started"
        assert slow_registry.wait_for(
            f"GET /v2/{big_suite.repo}/blobs/{big_suite.weights_digest}", 60, since=seen
        ), "the pull never asked for the big blob"
        time.sleep(0.5)  # 20 MB in: about 180 MB and 4.5 s still to go
        assert p.poll() is None, "the pull ended before it was interrupted"
        interrupted = time.monotonic()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        stopped = time.monotonic() - interrupted
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    print(f"Ctrl-C: the pull stopped {stopped:.2f} s after SIGINT")
    bench("Ctrl-C to exit during a pull", stopped, "s")
    assert p.returncode != 0, out
    assert "KeyboardInterrupt" in err, err
    assert "finished" not in out
    assert stopped < 3.0, f"{stopped:.1f} s from SIGINT to exit: was it interrupted or did it finish?"
    assert os.listdir(parent) == [], "no destination, no *.partial-* folder, no temp file"


def test_the_gil_is_released_while_a_pull_runs(big_suite, slow_registry, tmp_path):
    result: dict = {}
    dest = tmp_path / "big"

    def work():
        try:
            result["path"] = zoo_oci.pull(
                slow_registry.at(f"{big_suite.repo}:{big_suite.tag}"), dest, plain_http=True, quiet=True
            )
        except BaseException as e:  # noqa: BLE001 - reported below
            result["error"] = e

    worker = threading.Thread(target=work)
    count, longest = 0, 0.0
    started = last = time.perf_counter()
    worker.start()
    while worker.is_alive():
        count += 1
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
    elapsed = time.perf_counter() - started
    worker.join()
    assert "error" not in result, result.get("error")
    print(f"GIL: {count} main-thread iterations during a {elapsed:.2f} s pull; longest pause {longest * 1000:.0f} ms")
    bench(
        "main-thread loop iterations during a 200 MB pull",
        count,
        "iterations",
        seconds=elapsed,
        longest_pause_s=longest,
    )
    assert elapsed >= 2.0, f"the pull took {elapsed:.2f} s: too short to tell (is the proxy throttling?)"
    assert count >= 100_000, f"the main thread ran only {count} iterations in {elapsed:.1f} s"
    assert longest < 1.0, f"the main thread stood still for {longest:.2f} s: the GIL was held"
    weights = result["path"] / "models/weights.bin"
    assert weights.stat().st_size == BIG_SIZE
    assert "sha256:" + sha256_file(weights) == big_suite.weights_digest
    shutil.rmtree(dest)  # 200 MB


FORKED = r"""
import os, signal, sys, time, zoo_oci
suite, layout, child = sys.argv[1:4]
digest = zoo_oci.push(suite, layout, quiet=True)  # the parent's runtime is running now
pid = os.fork()
if pid == 0:  # the child: report through the exit status only
    try:
        ok = zoo_oci.inspect(layout).digest == digest and (zoo_oci.pull(layout, child, quiet=True) / "zoo.yaml").is_file()
        os._exit(0 if ok else 1)
    except BaseException:
        os._exit(2)
deadline = time.monotonic() + 30
while True:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    if time.monotonic() > deadline:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        sys.exit("the forked child hung on the runtime it inherited")
    time.sleep(0.05)
if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
    sys.exit(f"the child failed: status {status}")
# And the parent's runtime still works.
sys.exit(0 if zoo_oci.inspect(layout).digest == digest else "the parent's runtime broke")
"""


def test_a_forked_child_pulls_with_its_own_runtime(tmp_path):
    """A process forked after zoo_oci ran (multiprocessing's fork start method, a DataLoader's
    workers) inherits the runtime without its threads: it must start its own, not wait for ever.
    In a process of its own: pytest's process holds other tests' threads (registries, proxies),
    and a fork copies any lock one of them holds at that moment, which would hang the child for
    reasons that are not zoo-oci's."""
    suite = small_suite(tmp_path)
    layout = f"oci:{tmp_path / 'zoo'}:1.0.0"
    run = subprocess.run(
        [sys.executable, "-c", FORKED, str(suite), layout, str(tmp_path / "child")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
