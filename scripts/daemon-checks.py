#!/usr/bin/env python3
"""Checks of `timebok run` that need root (they change the machine): a burst of files larger than the
inotify queue, and a disk that fills up while the daemon runs.

  burst      5,000 command files dropped at once with /proc/sys/fs/inotify/max_queued_events lowered
             to 1,000 while the daemon starts (the queue overflows): every file is answered once.
  disk-full  the spool on a small tmpfs, filled up while the daemon runs: inputs wait in processing/
             (TB-0903), no partial or empty file is ever visible in outbox/, results/ or journal/, and
             once space is freed everything finishes exactly once.

Without root (or where tmpfs cannot be mounted) a check says "not run" and why, and exits 0; with
TIMEBOK_REQUIRE_ROOT_CHECKS=1 (CI) that is a failure.

    sudo scripts/daemon-checks.py [burst] [disk-full] [--binary .build/debug/timebok]
"""
import argparse, os, re, shutil, signal, subprocess, sys, tempfile, time, uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOW = "2026-12-01T12:00:00+01:00"
failures = []


def check(name, ok, detail=""):
    print(f"daemon-checks: {'ok' if ok else 'FAILED'}: {name}" + ("" if ok else f" ({detail})"))
    if not ok:
        failures.append(name)


def not_run(name, why):
    print(f"daemon-checks: not run: {name}: {why}")
    if os.environ.get("TIMEBOK_REQUIRE_ROOT_CHECKS") == "1":
        failures.append(name + " (not run)")


def environment():
    env = dict(os.environ, TIMEBOK_NOW=NOW)
    env.pop("TIMEBOK_SCHEMAS", None)
    return env


def init(binary, spool):
    subprocess.run([binary, "init", spool, "--demo"], env=environment(), check=True, capture_output=True)
    conf = os.path.join(spool, "timebok.conf")
    text = open(conf).read().replace("limits.settle-seconds = 2", "limits.settle-seconds = 0")
    open(conf, "w").write(text)


def start(binary, spool, log):
    daemon = subprocess.Popen([binary, "run", spool, "--scan-seconds", "1"], env=environment(),
                              stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    deadline = time.time() + 30
    while time.time() < deadline and "TB-0904" not in open(log).read():
        time.sleep(0.05)
    return daemon


def stop(daemon):
    daemon.send_signal(signal.SIGTERM)
    return daemon.wait(timeout=60)


def listing(spool, folder):
    path = os.path.join(spool, folder)
    return sorted(n for n in os.listdir(path) if not n.startswith(".")) if os.path.isdir(path) else []


def archived(spool):
    names = []
    for day in listing(spool, "archive"):
        names += [n for n in os.listdir(os.path.join(spool, "archive", day)) if not n.endswith(".outputs")]
    return names


def command(i):
    return (f'<Command xmlns="http://timebok.no/xmlstds/command/v1" id="burst-{i}">'
            f"<SetBookingEnabled><Enabled>true</Enabled></SetBookingEnabled></Command>").encode()


def drop(folder, name, body):
    temporary = os.path.join(folder, "." + name + ".tmp")
    with open(temporary, "wb") as f:
        f.write(body)
    os.rename(temporary, os.path.join(folder, name))


def wait_drained(spool, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if not listing(spool, "inbox") and not listing(spool, "commands") and not listing(spool, "processing"):
            return True
        time.sleep(0.2)
    return False


def burst(binary, work, count=5000):
    limit_file = "/proc/sys/fs/inotify/max_queued_events"
    if os.geteuid() != 0:
        return not_run("burst", "needs root to lower " + limit_file)
    spool = os.path.join(work, "burst")
    init(binary, spool)
    staging = os.path.join(work, "burst-files")
    os.makedirs(staging)
    for i in range(count):
        with open(os.path.join(staging, f"c{i:05d}.xml"), "wb") as f:
            f.write(command(i))
    saved = open(limit_file).read().strip()
    try:
        open(limit_file, "w").write("1000")
        daemon = start(binary, spool, os.path.join(work, "burst.log"))
    finally:
        # The daemon's inotify instance keeps the lowered limit; the machine gets its own back at once.
        open(limit_file, "w").write(saved)
    began = time.time()
    for name in sorted(os.listdir(staging)):
        os.rename(os.path.join(staging, name), os.path.join(spool, "commands", name))
    drained = wait_drained(spool, 900)
    seconds = time.time() - began
    status = stop(daemon)
    results = listing(spool, "results")
    check(f"{count} command files dropped at once, inotify queue 1,000: all processed", drained and len(archived(spool)) == count,
          f"{len(archived(spool))} archived, left: {len(listing(spool, 'commands'))} + {len(listing(spool, 'processing'))}")
    check("one result each", len(results) == count, f"{len(results)} results")
    check("the daemon stopped with 0", status == 0, f"exit {status}")
    print(f"daemon-checks: burst: {count} files in {seconds:.1f} s ({count / seconds:.0f}/s, debug build unless --binary says otherwise)")


def disk_full(binary, work):
    if os.geteuid() != 0:
        return not_run("disk-full", "needs root to mount a tmpfs")
    mount = os.path.join(work, "small")
    os.makedirs(mount)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mount], capture_output=True).returncode != 0:
        return not_run("disk-full", "tmpfs cannot be mounted here")
    try:
        spool = os.path.join(mount, "spool")
        init(binary, spool)
        daemon = start(binary, spool, os.path.join(work, "disk-full.log"))
        planned = open(os.path.join(ROOT, "samples", "in-HentPlanlagteTimer.xml"), "rb").read()
        # The inputs are written first (beside the spool, on the same file system), then the disk is
        # filled, then they are renamed in (a rename needs no space): the daemon meets a full disk.
        staging = os.path.join(mount, "staging")
        os.makedirs(staging)
        inputs = []
        for i in range(40):
            body = re.sub(rb"<MsgId>[^<]*</MsgId>", f"<MsgId>{uuid.uuid4()}</MsgId>".encode(), planned, count=1)
            with open(os.path.join(staging, f"m{i:03d}.xml"), "wb") as f:
                f.write(body)
            with open(os.path.join(staging, f"c{i:03d}.xml"), "wb") as f:
                f.write(command(i))
        filler = os.path.join(mount, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
        os.close(fd)
        for name in sorted(os.listdir(staging)):
            os.rename(os.path.join(staging, name), os.path.join(spool, "inbox" if name.startswith("m") else "commands", name))
            inputs.append(name)
        # Watch the output folders while the disk is full: never a partial or empty file.
        bad = set()
        deadline = time.time() + 4
        while time.time() < deadline:
            for folder in ("outbox", "results", "journal"):
                for name in listing(spool, folder):
                    path = os.path.join(spool, folder, name)
                    try:
                        if os.path.getsize(path) == 0:
                            bad.add(f"{folder}/{name}")
                    except OSError:
                        pass
            time.sleep(0.05)
        log = open(os.path.join(work, "disk-full.log")).read()
        check("the daemon says it waits for the disk (TB-0903 or TB-0908)", "TB-0903" in log or "TB-0908" in log, log[-500:])
        waiting = [line for line in log.splitlines() if "TB-0903" in line or "TB-0908" in line]
        if waiting:
            print("daemon-checks: disk-full: e.g. " + waiting[0][:300])
        check("the daemon is still running on a full disk", daemon.poll() is None)
        os.remove(filler)
        drained = wait_drained(spool, 120)
        status = stop(daemon)
        for folder in ("outbox", "results", "journal"):
            for name in listing(spool, folder):
                if os.path.getsize(os.path.join(spool, folder, name)) == 0:
                    bad.add(f"{folder}/{name}")
        done = archived(spool)
        errors = []
        for day in listing(spool, "error"):
            errors += [n for n in os.listdir(os.path.join(spool, "error", day)) if not n.endswith(".reason.txt")]
        check(f"after space is freed, all {len(inputs)} inputs are finished", drained, f"left: {listing(spool, 'processing')}")
        check("each exactly once (archive/ or error/, no NAME-2)",
              sorted(done + errors) == sorted(inputs) or sorted(n for n in done + errors if not n.endswith(".meta")) == sorted(inputs),
              f"{sorted(done + errors)[:10]} vs {sorted(inputs)[:10]}")
        check("none was refused for the disk's sake (all archived)", not errors, str(errors[:5]))
        check("no empty or partial file was ever visible in outbox/, results/, journal/", not bad, str(sorted(bad)[:5]))
        replies = [n for n in listing(spool, "outbox") if n.endswith(".xml")]
        check("one answer per message", len([n for n in replies if "SvarPlanlagteTimer" in n]) == len([n for n in inputs if n.startswith("m")]),
              f"{len(replies)} replies")
        check("the daemon stopped with 0", status == 0, f"exit {status}")
    finally:
        subprocess.run(["umount", "-l", mount], capture_output=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checks", nargs="*", default=["burst", "disk-full"])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "timebok"))
    parser.add_argument("--burst", type=int, default=5000, help="how many files the burst drops")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="timebok-daemon-checks-")
    try:
        if "burst" in args.checks:
            burst(args.binary, work, args.burst)
        if "disk-full" in args.checks:
            disk_full(args.binary, work)
    finally:
        if not failures:
            shutil.rmtree(work, ignore_errors=True)
    print(f"daemon-checks: {'all passed' if not failures else 'FAILED: ' + ', '.join(failures)}" + (f" (kept {work})" if failures else ""))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
