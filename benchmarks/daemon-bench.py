#!/usr/bin/env python3
"""Figures for `timebok run` (never a timed test): how fast a backlog drains, how long one request
waits at a steady rate, what each message costs in fsyncs and disk, and the floor beside it, all from
the same invocation on the same machine.

  drain   FREE HentLedigeTimer and RESERVE ReserverAvtale dropped at once into a running daemon:
          messages per second until the inbox is empty, disk bytes per message (database, archive,
          outbox), peak RSS, the daemon's CPU time per message, and how many cores were busy or in
          I/O wait meanwhile (bound by the processors?). Then the same drain again under strace -c,
          for the fsyncs per message only: traced, every thread of the daemon stops at each traced
          call and at every thread start, which cost the drain a quarter of its rate (the traced
          rate is printed beside it, never reported as the drain's).
  steady  HentLedigeTimer at RATE per second for SECONDS: from the request's rename into inbox/ to its
          reply's appearance in outbox/ (the reply's inode change time), p50 / p99 / max. It starts
          after sync(2), so the drain's replies are not still being written back.
  floor   one RSA-2048 signature (openssl speed), one durable 3 KB file write (write, fsync, rename,
          fsync of the folder), and xmllint --schema per input when the official schemas are given.
  ceiling every core doing nothing but the one signature each message's reply needs.

    benchmarks/daemon-bench.py [--binary .build/release/timebok] [--free 10000] [--reserve 2000]
                               [--rate 100] [--seconds 20] [--schemas ../shared/reference/schemas]
                               [--work DIR]

--work DIR puts the spools (and the floor's durable write) on DIR's file system instead of the
temporary folder's: the file system is part of what is measured. On ext4 without a journal, every
new file scans the inodes freed in the last one to five minutes (the kernel avoids reusing them),
so a drain started soon after many deletions (the previous invocation's gigabyte of files, or
retention's purge of a day folder) runs at a third to a half of its rate; the bench says so when
the work folder is on such a file system.
Build first: swift build -c release --product timebok
"""
import argparse, os, re, shutil, signal, sqlite3, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOW = "2026-12-01T12:00:00+01:00"


def env():
    e = dict(os.environ, TIMEBOK_NOW=NOW)
    e.pop("TIMEBOK_SCHEMAS", None)
    return e


def init(binary, spool):
    subprocess.run([binary, "init", spool, "--demo"], env=env(), check=True, capture_output=True)
    conf = os.path.join(spool, "timebok.conf")
    text = open(conf).read().replace("limits.settle-seconds = 2", "limits.settle-seconds = 0")
    open(conf, "w").write(text)


def start(binary, spool, log, strace=None):
    command = [binary, "run", spool, "--scan-seconds", "1"]
    if strace:
        # --seccomp-bpf: only the traced calls stop the daemon (without it every system call does, and
        # the drain rate measured is strace's).
        command = ["strace", "-f", "--seccomp-bpf", "-c", "-e", "trace=fsync,fdatasync,syncfs,sync_file_range",
                   "-o", strace] + command
    daemon = subprocess.Popen(command, env=env(), stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    deadline = time.time() + 60
    while "TB-0904" not in open(log).read():
        if time.time() > deadline or daemon.poll() is not None:
            sys.exit("daemon-bench: the daemon did not start: " + open(log).read()[-1000:])
        time.sleep(0.05)
    return daemon


def stop(daemon, traced=False):
    # Under strace, the daemon is strace's child: it gets the signal, strace follows it out.
    os.kill(child_pid(daemon.pid) if traced else daemon.pid, signal.SIGTERM)
    daemon.wait(timeout=120)


def lab_slots(binary, spool, count):
    out = subprocess.run([binary, "slots", "list", "lab", "--spool", spool, "--from", "2026-12-02", "--to", "2026-12-29"],
                         env=env(), capture_output=True, text=True).stdout
    slots = []
    for line in out.splitlines():
        m = re.match(r"([0-9a-f-]{36})\s+(\S+)T(\d\d:\d\d):00–(\d\d:\d\d)", line)
        if m:
            slots.append((m.group(1), m.group(2), m.group(3), m.group(4)))
    return slots[:count]


def requests(free, reserve, slots):
    """(name, bytes, meta) for FREE free-slot requests and RESERVE reservations."""
    hlt = open(os.path.join(ROOT, "samples", "in-HentLedigeTimer-resourcebook.xml"), "rb").read()
    rt = open(os.path.join(ROOT, "samples", "in-ReserverAvtale-resourcebook.xml"), "rb").read()
    out = []
    for i in range(free):
        body = re.sub(rb"<MsgId>[^<]*</MsgId>", f"<MsgId>bench-f{i}</MsgId>".encode(), hlt, count=1)
        out.append((f"f{i:06d}.xml", body, f"message-id = bench-f{i}\nfrom-her-id = 8093248\n"))
    for i in range(reserve):
        slot_id, day, start, end = slots[i % len(slots)] if slots else ("none", "2026-12-08", "07:45", "08:00")
        body = re.sub(rb"<MsgId>[^<]*</MsgId>", f"<MsgId>bench-r{i}</MsgId>".encode(), rt, count=1)
        body = body.replace(b"75b33a60-fa91-425a-9dc8-8dba028f89c8", slot_id.encode())
        body = body.replace(b"2026-12-08T08:00:00", f"{day}T{end}:00".encode()).replace(b"2026-12-08T07:45:00", f"{day}T{start}:00".encode())
        out.append((f"r{i:06d}.xml", body, f"message-id = bench-r{i}\nfrom-her-id = 8093248\n"))
    return out


def stage(folder, inputs):
    os.makedirs(folder, exist_ok=True)
    for name, body, meta in inputs:
        open(os.path.join(folder, name), "wb").write(body)
        open(os.path.join(folder, name[:-4] + ".meta"), "w").write(meta)
    # Staging is set-up, not traffic: the daemon's syncfs writes out everything dirty on the file
    # system, and thousands of files staged at once would otherwise be charged to its first batches
    # (at 100/s that put p99 at 25-58 ms instead of 14 ms, and max at about 100 ms instead of 25).
    os.sync()


def move_in(staging, inbox, names):
    for name in names:
        # The .meta first: the message never waits for it.
        os.rename(os.path.join(staging, name[:-4] + ".meta"), os.path.join(inbox, name[:-4] + ".meta"))
        os.rename(os.path.join(staging, name), os.path.join(inbox, name))


def drained(spool):
    return not os.listdir(os.path.join(spool, "inbox")) and not os.listdir(os.path.join(spool, "processing"))


def du(path, seen=None):
    """Bytes on disk under path; a file with several names (the archive's hard links) counts once."""
    seen = set() if seen is None else seen
    total = 0
    for base, _, names in os.walk(path):
        for name in names:
            try:
                st = os.lstat(os.path.join(base, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total


def pages(spool):
    """(bytes in pages in use, bytes in free pages) of the spool's database (read-only)."""
    db = sqlite3.connect(f"file:{os.path.join(spool, 'state', 'timebok.sqlite')}?mode=ro", uri=True)
    size, count, free = (db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_size", "page_count", "freelist_count"))
    db.close()
    return (count - free) * size, free * size


def peak_rss_kb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid):
    """user + system CPU seconds of a process, all its threads (fields 14 and 15 of /proc/PID/stat)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def machine_ticks():
    """(busy, iowait, total) jiffies of all cores since boot, from /proc/stat."""
    values = [int(v) for v in open("/proc/stat").readline().split()[1:]]
    idle, iowait = values[3], values[4]
    total = sum(values[:8])
    return total - idle - iowait, iowait, total


def drain(binary, work, free, reserve, traced=False):
    """The drain's figures printed; returns its rate. `traced`: under strace -c, only the fsyncs."""
    spool = os.path.join(work, "drain-traced" if traced else "drain")
    init(binary, spool)
    inputs = requests(free, reserve, lab_slots(binary, spool, reserve))
    staging = os.path.join(work, "drain-staging")
    stage(staging, inputs)
    input_bytes = sum(len(b) + len(m) for _, b, m in inputs)
    before = du(spool)
    database_before, _ = pages(spool)
    strace = os.path.join(work, "strace.txt") if traced else None
    daemon = start(binary, spool, os.path.join(work, "drain.log"), strace)
    began = time.time()
    machine_before = machine_ticks()
    move_in(staging, os.path.join(spool, "inbox"), [n for n, _, _ in inputs])
    rss = 0
    while not drained(spool):
        rss = max(rss, peak_rss_kb(daemon.pid if not strace else child_pid(daemon.pid)))
        time.sleep(0.05)
    seconds = time.time() - began
    machine_after = machine_ticks()
    rss = max(rss, peak_rss_kb(daemon.pid if not strace else child_pid(daemon.pid)))
    daemon_cpu = cpu_seconds(daemon.pid if not strace else child_pid(daemon.pid))
    stop(daemon, traced=bool(strace))
    count = len(inputs)
    if traced:
        fsyncs = sum(int(line.split()[3]) for line in open(strace) if re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+\d+", line) and line.split()[-1] in ("fsync", "fdatasync", "syncfs", "sync_file_range"))
        print(f"drain under strace -c: {fsyncs} fsyncs, {fsyncs / count:.2f} per message "
              f"(traced, it drained at {count / seconds:.0f} messages/s)")
        shutil.rmtree(spool, ignore_errors=True)
        return count / seconds
    database = du(os.path.join(spool, "state"))
    # The database's growth is its pages in use; free pages (the bytes of outputs waiting for their
    # batch to be published, deleted since) are reused by the next batches and do not grow with count.
    in_use, free_pages = pages(spool)
    total = du(spool) - before
    outputs = du(os.path.join(spool, "outbox"))
    ratio = total / (input_bytes + outputs) if input_bytes + outputs else 0
    print(f"drain: {count} messages ({free} HentLedigeTimer, {reserve} ReserverAvtale) in {seconds:.2f} s: {count / seconds:.0f} messages/s")
    print(f"drain: disk {total / count / 1024:.1f} KiB per message (database {database / count / 1024:.1f} KiB, outbox {outputs / count / 1024:.1f} KiB; "
          f"inputs {input_bytes / count / 1024:.1f} KiB each): {ratio:.2f} times its input and outputs")
    print(f"drain: database in use {(in_use - database_before) / count / 1024:.2f} KiB per message "
          f"(growth of its pages in use; {free_pages / 1048576:.1f} MiB of free pages for the next batches)")
    print(f"drain: peak RSS {rss / 1024:.0f} MiB")
    # Whether the drain is bound by the processors or waits: the daemon's own CPU time (its start
    # included), and how busy all cores were meanwhile (this script and the kernel's write-back too).
    busy, iowait, total = (after - before for after, before in zip(machine_after, machine_before))
    cores = os.cpu_count() or 1
    print(f"drain: daemon CPU {daemon_cpu:.1f} s, {1000 * daemon_cpu / count:.2f} ms per message; "
          f"cores busy {cores * busy / total:.2f} of {cores}, in I/O wait {cores * iowait / total:.2f}" if total else "")
    return count / seconds


def child_pid(pid):
    try:
        children = open(f"/proc/{pid}/task/{pid}/children").read().split()
        return int(children[0]) if children else pid
    except OSError:
        return pid


def unjournaled_ext4(path):
    """The device name when `path` is on ext4 without a journal (no /proc/fs/jbd2/NAME-*), else None."""
    try:
        device = os.stat(path).st_dev
        for line in open("/proc/self/mountinfo"):
            fields = line.split()
            separator = fields.index("-")
            major, minor = (int(x) for x in fields[2].split(":"))
            if os.makedev(major, minor) == device and fields[separator + 1] == "ext4":
                name = os.path.basename(fields[separator + 2])
                journals = os.listdir("/proc/fs/jbd2") if os.path.isdir("/proc/fs/jbd2") else []
                return None if any(j.startswith(name + "-") for j in journals) else name
    except (OSError, ValueError):
        pass
    return None


def floor(schemas, base=None):
    figures = {}
    out = subprocess.run(["openssl", "speed", "-seconds", "2", "rsa2048"], capture_output=True, text=True).stdout
    m = re.search(r"rsa\s+2048 bits\s+([\d.]+)s\s+([\d.]+)s", out)
    if m:
        figures["rsa2048 sign"] = float(m.group(1)) * 1000
    work = tempfile.mkdtemp(prefix="timebok-floor-", dir=base)
    began = time.time()
    for i in range(200):
        path = os.path.join(work, f".f{i}.tmp")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o640)
        os.write(fd, b"x" * 3072)
        os.fsync(fd)
        os.close(fd)
        os.rename(path, os.path.join(work, f"f{i}.xml"))
        dfd = os.open(work, os.O_RDONLY)
        os.fsync(dfd)
        os.close(dfd)
    figures["durable 3 KB write"] = (time.time() - began) / 200 * 1000
    shutil.rmtree(work, ignore_errors=True)
    if schemas and shutil.which("xmllint"):
        sample = tempfile.mkdtemp(prefix="timebok-floor-inputs-")
        stage(sample, requests(400, 100, []))
        files = sorted(os.path.join(sample, n) for n in os.listdir(sample) if n.endswith(".xml"))
        began = time.time()
        subprocess.run(["xmllint", "--noout", "--schema", os.path.join(schemas, "driver-all.xsd")] + files, capture_output=True)
        figures["xmllint --schema"] = (time.time() - began) / len(files) * 1000
        shutil.rmtree(sample, ignore_errors=True)
    return figures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "timebok"))
    parser.add_argument("--free", type=int, default=10000)
    parser.add_argument("--reserve", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--schemas", default=None)
    parser.add_argument("--work", default=None, help="the folder whose file system holds the spools")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="timebok-bench-", dir=args.work)
    device = unjournaled_ext4(work)
    if device:
        print(f"note: {work} is on ext4 without a journal ({device}): for up to five minutes after many files "
              "were deleted there, every new file costs a scan of the freed inodes; leave minutes between "
              "invocations, or use --work on a journaled file system")
    try:
        per_second = drain(args.binary, work, args.free, args.reserve)
        if shutil.which("strace"):
            os.sync()
            drain(args.binary, work, args.free, args.reserve, traced=True)
        else:
            print("drain under strace -c: not run (strace is not installed: apt-get install strace)")
        # The drain leaves about a gigabyte of replies dirty in the page cache; while the kernel
        # writes them back, every syncfs of the steady run would wait for them too. Written back
        # first, the steady run measures the steady state, not the drain's tail.
        os.sync()
        latencies = steady_latencies(args.binary, work, args.rate, args.seconds)
        if latencies:
            latencies.sort()
            p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
            print(f"steady: {len(latencies)} HentLedigeTimer at {args.rate:.0f}/s: rename into inbox/ to reply in outbox/ "
                  f"p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {latencies[-1]:.1f} ms")
        figures = floor(args.schemas, args.work)
        per_message = sum(figures.values())
        print("floor: " + ", ".join(f"{k} {v:.2f} ms" for k, v in figures.items()) + f": {per_message:.2f} ms per message, {1000 / per_message:.0f}/s")
        print(f"ratio: timebok drains at {per_second / (1000 / per_message):.2f} of the floor")
        if "rsa2048 sign" in figures:
            # Every HentLedigeTimer and ReserverAvtale is answered with one signed reply: with every
            # core signing and nothing else costing anything, no drain can be faster than this.
            cores = os.cpu_count() or 1
            print(f"ceiling: one RSA-2048 signature per message on {cores} cores: at most "
                  f"{cores * 1000 / figures['rsa2048 sign']:.0f} messages/s; timebok drains at "
                  f"{per_second / (cores * 1000 / figures['rsa2048 sign']):.2f} of it")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def steady_latencies(binary, work, rate, seconds):
    spool = os.path.join(work, "steady")
    init(binary, spool)
    inputs = requests(int(rate * seconds), 0, [])
    staging = os.path.join(work, "steady-staging")
    stage(staging, inputs)
    daemon = start(binary, spool, os.path.join(work, "steady.log"))
    dropped = {}
    began = time.time()
    for index, (name, _, _) in enumerate(inputs):
        delay = began + index / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        move_in(staging, os.path.join(spool, "inbox"), [name])
        dropped[f"bench-f{index}"] = time.time_ns()
    deadline = time.time() + 120
    while not drained(spool) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    stop(daemon)
    outbox = os.path.join(spool, "outbox")
    latencies = []
    for name in os.listdir(outbox):
        if not name.endswith(".meta"):
            continue
        m = re.search(r"correlation-id = (bench-f\d+)\n", open(os.path.join(outbox, name)).read())
        xml = os.path.join(outbox, name[:-5] + ".xml")
        if m and m.group(1) in dropped and os.path.exists(xml):
            latencies.append((os.stat(xml).st_ctime_ns - dropped[m.group(1)]) / 1e6)
    return latencies


if __name__ == "__main__":
    main()
