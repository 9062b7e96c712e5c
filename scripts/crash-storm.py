#!/usr/bin/env python3
"""Crash storm: `timebok process` (or, with --daemon, `timebok run`) killed with SIGKILL at random
moments, restarted each time.

Drops INPUTS helsenorge messages (the project's own samples with new MsgIds, each with a .meta
from the transport) and COMMANDS command files into a demo spool, kills `timebok process` KILLS
times at random moments, lets it finish, and checks, against a run of the same inputs without
kills: every input in archive/ or error/ exactly once under its own name (with its .meta), every
asynchronous input exactly one AppRec, every answer's .meta correlating with its request, the same
outputs and the same model, no leftovers of timebok's own, no empty output, integrity_check ok.

    scripts/crash-storm.py [--inputs 200] [--commands 20] [--kills 50] [--binary .build/debug/timebok] [--daemon]
Prints one line per check and "crash-storm: N passed, M failed"; exits 1 when any check fails.
"""
import argparse, glob, os, random, re, shutil, signal, sqlite3, subprocess, sys, tempfile, time, uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOW = "2026-12-01T12:00:00+01:00"
ASYNC = re.compile(rb'<TypeForesp V="(RT|ART)"')

def run(binary, *args, check=True):
    env = dict(os.environ, TIMEBOK_NOW=NOW)
    env.pop("TIMEBOK_SCHEMAS", None)
    result = subprocess.run([binary, *args], env=env, capture_output=True, text=True)
    if check and result.returncode not in (0, 1):
        sys.exit(f"crash-storm: `{' '.join(args)}` exited {result.returncode}: {result.stdout[-500:]}{result.stderr[-500:]}")
    return result

def make_inputs(count, commands, seed):
    rng = random.Random(seed)
    samples = [p for p in sorted(glob.glob(os.path.join(ROOT, "samples", "in-*.xml"))) if "AppRec" not in p]
    inputs = []
    for i in range(count):
        sample = open(rng.choice(samples), "rb").read()
        msg_id = str(uuid.UUID(int=rng.getrandbits(128)))
        body = re.sub(rb"<MsgId>[^<]*</MsgId>", b"<MsgId>" + msg_id.encode() + b"</MsgId>", sample, count=1)
        meta = f"message-id = amqp-{i}\ncorrelation-id = corr-{i}\nfrom-her-id = 8093248\n"
        inputs.append((f"m{i:04d}.xml", body, meta, msg_id))
    for i in range(commands):
        day = 7 + i // 8
        start = f"2027-01-{day:02d}T{7 + i % 8:02d}:00:00"
        end = f"2027-01-{day:02d}T{7 + i % 8:02d}:10:00"
        body = (f'<Command xmlns="http://timebok.no/xmlstds/command/v1" id="storm-{i}"><OpenSlot><BookId>lab</BookId>'
                f"<Start>{start}</Start><End>{end}</End></OpenSlot></Command>").encode()
        inputs.append((f"c{i:04d}.xml", body, None, None))
    return inputs

def drop(spool, inputs):
    for name, body, meta, _ in inputs:
        folder = os.path.join(spool, "commands" if meta is None else "inbox")
        if meta is not None:
            with open(os.path.join(folder, "." + name[:-4] + ".meta.tmp"), "w") as f:
                f.write(meta)
            os.rename(os.path.join(folder, "." + name[:-4] + ".meta.tmp"), os.path.join(folder, name[:-4] + ".meta"))
        with open(os.path.join(folder, "." + name + ".tmp"), "wb") as f:
            f.write(body)
        os.rename(os.path.join(folder, "." + name + ".tmp"), os.path.join(folder, name))

def new_spool(binary, work, name):
    spool = os.path.join(work, name)
    run(binary, "init", spool, "--demo")
    conf = os.path.join(spool, "timebok.conf")
    text = open(conf).read().replace("limits.settle-seconds = 2", "limits.settle-seconds = 0")
    open(conf, "w").write(text)
    return spool

def pending_names(spool):
    return [n for f in ("inbox", "commands", "processing") for n in os.listdir(os.path.join(spool, f))]

def pending(spool):
    return bool(pending_names(spool))

def finish(binary, spool):
    for _ in range(20):
        if not pending(spool):
            return
        run(binary, "process", spool)
    sys.exit("crash-storm: the spool did not drain")

def files(spool, folder):
    out = []
    for base, _, names in os.walk(os.path.join(spool, folder)):
        for n in names:
            out.append(os.path.relpath(os.path.join(base, n), spool))
    return sorted(out)

def label(name):
    parts = os.path.basename(name).split("-")
    return "-".join(parts[2:-5]) if len(parts) > 7 else os.path.basename(name)

def outputs_by_label(spool):
    labels = {}
    for f in files(spool, "outbox") + files(spool, "journal") + files(spool, "results"):
        key = f.split("/")[0] + ":" + (label(f) if not f.startswith("results") else "result")
        labels[key] = labels.get(key, 0) + 1
    return labels

def model(spool):
    db = sqlite3.connect(os.path.join(spool, "state", "timebok.sqlite"))
    try:
        states = sorted(r[0] for r in db.execute("SELECT state FROM appointment"))
        slots = db.execute("SELECT COUNT(*) FROM slot").fetchone()[0]
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()
    return states, slots, integrity

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--inputs", type=int, default=1000)
    parser.add_argument("--commands", type=int, default=50)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--deadline", type=float, default=600, help="seconds the storm may take before it fails")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "timebok"))
    parser.add_argument("--daemon", action="store_true",
                        help="kill `timebok run` instead of `process`; half the inputs arrive while it runs")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    inputs = make_inputs(args.inputs, args.commands, args.seed)
    work = tempfile.mkdtemp(prefix="timebok-storm-")

    calm = new_spool(args.binary, work, "calm")
    drop(calm, inputs)
    finish(args.binary, calm)

    storm = new_spool(args.binary, work, "storm")
    env = dict(os.environ, TIMEBOK_NOW=NOW)
    env.pop("TIMEBOK_SCHEMAS", None)
    kills = 0
    storm_began = time.time()

    def give_up_if_stuck():
        # The storm has a deadline of its own: a run that stops making progress fails with a reason.
        if time.time() - storm_began > args.deadline:
            sys.exit(f"crash-storm: the storm did not drain within {args.deadline} s ({kills} SIGKILLs so far); "
                     f"left: {len(pending_names(storm))} inputs")

    if args.daemon:
        # Half the inputs wait before the first start, the rest arrive in chunks while it runs.
        half = len(inputs) // 2
        drop(storm, inputs[:half])
        later = inputs[half:]
        chunk = max(1, len(later) // max(1, args.kills))
        early = 0
        while kills < args.kills and (pending(storm) or later):
            give_up_if_stuck()
            # The daemon's log goes to a file: a pipe nobody reads would block it once full.
            daemon_log = open(os.path.join(work, "daemon.log"), "wb")
            daemon = subprocess.Popen([args.binary, "run", storm, "--scan-seconds", "0.5"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=daemon_log)
            drop(storm, later[:chunk])
            later = later[chunk:]
            time.sleep(rng.uniform(0.02, 0.5))
            if daemon.poll() is None:
                daemon.send_signal(signal.SIGKILL)
                kills += 1
                early = 0
            else:
                # A daemon only stops by itself when something is wrong: say what, rather than loop.
                early += 1
                if early >= 3:
                    daemon_log.close()
                    sys.exit(f"crash-storm: the daemon exited {daemon.returncode} by itself three times in a row: "
                             f"{open(daemon_log.name, errors='replace').read()[-2000:]}")
            daemon.wait()
            daemon_log.close()
        drop(storm, later)
        # The last run: until the spool is drained, then a graceful stop (SIGTERM exits 0).
        daemon_log = open(os.path.join(work, "daemon.log"), "wb")
        daemon = subprocess.Popen([args.binary, "run", storm, "--scan-seconds", "0.5"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=daemon_log)
        deadline = time.time() + 300
        while pending(storm) and time.time() < deadline and daemon.poll() is None:
            time.sleep(0.1)
        time.sleep(0.5)
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
        daemon_log.close()
        if daemon.returncode != 0:
            sys.exit(f"crash-storm: the last daemon exited {daemon.returncode}: "
                     f"{open(daemon_log.name, errors='replace').read()[-2000:]}")
    else:
        drop(storm, inputs)
        while kills < args.kills and pending(storm):
            give_up_if_stuck()
            process = subprocess.Popen([args.binary, "process", storm], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.005, 0.25))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
            process.wait()
    finish(args.binary, storm)

    checks = []
    def check(name, ok, detail=""):
        checks.append(ok)
        print(f"crash-storm: {'ok' if ok else 'FAILED'}: {name}" + ("" if ok else f": {detail}"))

    check(f"{kills} SIGKILLs during processing", kills >= args.kills, f"only {kills} before the spool drained: give it more --inputs")
    placed = {}
    for folder in ("archive", "error"):
        for f in files(storm, folder):
            if "/" in f and not f.endswith(".reason.txt") and ".outputs/" not in f:
                placed.setdefault(os.path.basename(f), []).append(f)
    lost = [n for n, _, _, _ in inputs if len(placed.get(n, [])) == 0]
    twice = [n for n, _, _, _ in inputs if len(placed.get(n, [])) > 1]
    renamed = [n for n in placed if re.search(r"-\d+\.(xml|meta)$", n)]
    metas = [n for n, _, m, _ in inputs if m is not None and len(placed.get(n[:-4] + ".meta", [])) != 1]
    check("every input in archive/ or error/ exactly once", not lost and not twice, f"lost {lost[:5]}, twice {twice[:5]}")
    check("no input renamed (NAME-2)", not renamed, f"{renamed[:5]}")
    check("every .meta beside its input, once", not metas, f"{metas[:5]}")
    leftovers = [f for folder in ("outbox", "journal", "results", "archive", "error", "state", "processing") for f in files(storm, folder)
                 if os.path.basename(f).endswith((".tmp", ".pending")) or folder == "processing"]
    orphans = [f for f in files(storm, "archive") if ".outputs/" in f and not os.path.exists(os.path.join(storm, f.split(".outputs/")[0]))]
    check("no leftovers of timebok's own (.tmp, .pending, processing/, .outputs without its input)", not leftovers and not orphans, f"{leftovers[:5]} {orphans[:5]}")
    empty = [f for folder in ("outbox", "journal", "results") for f in files(storm, folder) if os.path.getsize(os.path.join(storm, f)) == 0]
    check("no empty file in outbox/, journal/, results/", not empty, f"{empty[:5]}")
    receipts = {}
    for f in files(storm, "outbox"):
        if "-AppRec-" in f and f.endswith(".xml"):
            text = open(os.path.join(storm, f), "rb").read()
            original = re.search(rb"<OriginalMsgId>.*?<Id>([^<]*)</Id>", text, re.S)
            if original:
                receipts[original.group(1).decode()] = receipts.get(original.group(1).decode(), 0) + 1
    async_inputs = [(n, m) for n, body, meta, m in inputs if meta is not None and ASYNC.search(body)]
    wrong = [n for n, m in async_inputs if receipts.get(m, 0) != 1]
    check(f"each of {len(async_inputs)} asynchronous inputs has exactly one AppRec", not wrong, f"{wrong[:5]}")
    correlation = {m: f"corr-{i}" for i, (n, _, meta, m) in enumerate(inputs) if meta is not None}
    bad_meta = []
    for f in files(storm, "outbox"):
        if not f.endswith(".xml"):
            continue
        text = open(os.path.join(storm, f), "rb").read()
        parent = re.search(rb"<RefToParent>([^<]*)</RefToParent>", text) or re.search(rb"<OriginalMsgId>.*?<Id>([^<]*)</Id>", text, re.S)
        if not parent or parent.group(1).decode() not in correlation:
            continue
        meta = open(os.path.join(storm, f[:-4] + ".meta")).read()
        if f"correlation-id = {correlation[parent.group(1).decode()]}\n" not in meta:
            bad_meta.append(f)
    check("every answer's .meta carries its request's correlation id", not bad_meta, f"{bad_meta[:5]}")
    check("the same outputs as a run without kills", outputs_by_label(storm) == outputs_by_label(calm),
          f"{ {k: v for k, v in outputs_by_label(storm).items() if outputs_by_label(calm).get(k) != v} } vs calm")
    storm_model, calm_model = model(storm), model(calm)
    check("the same model as a run without kills", storm_model[:2] == calm_model[:2], f"{storm_model[:2]} vs {calm_model[:2]}")
    check("PRAGMA integrity_check", storm_model[2] == "ok", storm_model[2])
    failed = checks.count(False)
    print(f"crash-storm: {len(checks) - failed} passed, {failed} failed ({len(inputs)} inputs, {kills} kills" + (f", spools kept in {work})" if failed else ")"))
    if not failed:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)

if __name__ == "__main__":
    main()
