# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Long-lived TCP connections through a VIP, and what happened to them.

  longconn.py server NAME PORT
      On each backend: answers every line on a connection with "NAME\\n".
  longconn.py client HOST PORT --conns N --duration S --report FILE
                     [--interval 0.1] [--new-per-s R [--new-host H]]
                     [--ready FILE] [--progress FILE]
      Opens N connections (spread over ~1 s), each asking every INTERVAL s
      and waiting for the answer; with --new-per-s also R short connections
      a second (connect, one question, close) to H (default HOST), e.g. the
      other VIP, so a host's counters tell them from the long-lived ones. Stops after S seconds or on
      SIGTERM/SIGINT, then writes the JSON report to FILE and a summary line
      to stdout. --ready FILE is written once all N connections are open.
      --progress FILE is rewritten every 0.2 s while it runs, with "conns":
      [port, backend, answers, outcome] of each long-lived connection.
  longconn.py probe HOST PORT [--timeout S]
      One connection attempt: prints "ok BACKEND MS" or "ERRNO_NAME MS".

The report: opened, connect_errors, resets (ECONNRESET, or the peer closing
the connection), timeouts (no answer within 10 s), other_errors, alive (at
the end), longest_stall_ms (the longest wait for an answer on any
long-lived connection) and when it began (stall_at, seconds from the start),
per_backend (connections by the backend answering their first question),
new (the short connections: ok, failed, per_backend) and conns (local port,
backend, outcome of each long-lived connection).
"""
import argparse, asyncio, errno, json, os, signal, socket, sys, time

ANSWER_TIMEOUT = 10.0
CONNECT_TIMEOUT = 5.0


def err_name(e):
    n = getattr(e, "errno", None)
    return errno.errorcode.get(n, type(e).__name__) if n else type(e).__name__


async def serve(name, port):
    reply = (name + "\n").encode()

    async def handle(reader, writer):
        try:
            while await reader.readline():
                writer.write(reply)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", port))
    srv = await asyncio.start_server(handle, sock=sock, backlog=1024)
    print("listening", flush=True)
    async with srv:
        await srv.serve_forever()


class Client:
    def __init__(self, a):
        self.a = a
        self.t0 = time.monotonic()
        self.stop = asyncio.Event()
        self.conns = []
        self.connect_errors = {}
        self.stall = (0.0, 0.0)  # (ms, began at)
        self.new = {"ok": 0, "failed": 0, "errors": {}, "per_backend": {}}

    async def open(self, host=None):
        r, w = await asyncio.wait_for(
            asyncio.open_connection(host or self.a.host, self.a.port), CONNECT_TIMEOUT)
        return r, w

    async def ask(self, r, w, track=True):
        t = time.monotonic()
        w.write(b"?\n")
        await w.drain()
        line = await asyncio.wait_for(r.readline(), ANSWER_TIMEOUT)
        if not line:
            raise ConnectionResetError(errno.ECONNRESET, "closed by peer")
        ms = (time.monotonic() - t) * 1000
        if track and ms > self.stall[0]:
            self.stall = (ms, t - self.t0)
        return line.decode().strip()

    async def long_lived(self, i):
        c = {"port": 0, "backend": None, "outcome": "alive", "answers": 0}
        await asyncio.sleep(i / max(self.a.conns, 1))  # no SYN burst
        try:
            r, w = await self.open()
        except (OSError, asyncio.TimeoutError) as e:
            n = err_name(e)
            self.connect_errors[n] = self.connect_errors.get(n, 0) + 1
            return
        c["port"] = w.get_extra_info("sockname")[1]
        self.conns.append(c)
        try:
            while not self.stop.is_set():
                b = await self.ask(r, w)
                c["answers"] += 1
                if c["backend"] is None:
                    c["backend"] = b
                elif b != c["backend"]:
                    c["outcome"] = "switched"  # TCP cannot; a bug if seen
                try:
                    await asyncio.wait_for(self.stop.wait(), self.a.interval)
                except asyncio.TimeoutError:
                    pass
        except asyncio.TimeoutError:
            c["outcome"] = "timeout"
        except ConnectionResetError:
            c["outcome"] = "reset"
        except OSError as e:
            c["outcome"] = err_name(e)
        finally:
            w.close()

    async def short(self):
        try:
            r, w = await self.open(self.a.new_host)
            try:
                b = await self.ask(r, w, track=False)
            finally:
                w.close()
            self.new["ok"] += 1
            pb = self.new["per_backend"]
            pb[b] = pb.get(b, 0) + 1
        except (OSError, asyncio.TimeoutError) as e:
            n = err_name(e)
            self.new["failed"] += 1
            self.new["errors"][n] = self.new["errors"].get(n, 0) + 1

    async def churn(self):
        tasks = set()
        while not self.stop.is_set():
            t = asyncio.ensure_future(self.short())
            tasks.add(t)
            t.add_done_callback(tasks.discard)
            try:
                await asyncio.wait_for(self.stop.wait(), 1 / self.a.new_per_s)
            except asyncio.TimeoutError:
                pass
        if tasks:
            await asyncio.wait(tasks, timeout=CONNECT_TIMEOUT + ANSWER_TIMEOUT)

    async def run(self):
        loop = asyncio.get_running_loop()
        for s in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(s, self.stop.set)
        loop.call_later(self.a.duration, self.stop.set)
        tasks = [asyncio.ensure_future(self.long_lived(i)) for i in range(self.a.conns)]
        if self.a.new_per_s > 0:
            tasks.append(asyncio.ensure_future(self.churn()))
        if self.a.ready:
            asyncio.ensure_future(self.mark_ready())
        if self.a.progress:
            asyncio.ensure_future(self.write_progress())
        await asyncio.gather(*tasks)
        return self.report()

    async def write_progress(self):
        # Bounded by the run: it ends when stop is set.
        while not self.stop.is_set():
            rows = [[c["port"], c["backend"], c["answers"], c["outcome"]] for c in self.conns]
            with open(self.a.progress + ".tmp", "w") as f:
                json.dump({"seconds": round(time.monotonic() - self.t0, 2), "conns": rows}, f)
            os.replace(self.a.progress + ".tmp", self.a.progress)
            try:
                await asyncio.wait_for(self.stop.wait(), 0.2)
            except asyncio.TimeoutError:
                pass

    async def mark_ready(self):
        # Ready: every connection opened (or failed) and answered once.
        while not self.stop.is_set():
            done = len(self.conns) + sum(self.connect_errors.values())
            if done >= self.a.conns and all(c["answers"] or c["outcome"] != "alive"
                                            for c in self.conns):
                with open(self.a.ready, "w") as f:
                    f.write("%d\n" % len(self.conns))
                return
            await asyncio.sleep(0.05)

    def report(self):
        out = {k: 0 for k in ("resets", "timeouts", "other_errors", "alive")}
        per = {}
        for c in self.conns:
            o = c["outcome"]
            key = {"reset": "resets", "timeout": "timeouts", "alive": "alive"}.get(o, "other_errors")
            out[key] += 1
            if c["backend"]:
                per[c["backend"]] = per.get(c["backend"], 0) + 1
        out.update(opened=len(self.conns), connect_errors=self.connect_errors,
                   longest_stall_ms=round(self.stall[0], 1),
                   stall_at=round(self.stall[1], 2), per_backend=per,
                   new=self.new, seconds=round(time.monotonic() - self.t0, 2),
                   conns=self.conns)
        return out


async def probe(a):
    t = time.monotonic()
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(a.host, a.port), a.timeout)
        w.write(b"?\n")
        line = await asyncio.wait_for(r.readline(), a.timeout)
        w.close()
        res = "ok " + (line.decode().strip() or "-")
    except (OSError, asyncio.TimeoutError) as e:
        res = err_name(e)
    print("%s %d" % (res, (time.monotonic() - t) * 1000))
    return 0 if res.startswith("ok") else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("server")
    s.add_argument("name")
    s.add_argument("port", type=int)
    c = sub.add_parser("client")
    c.add_argument("host")
    c.add_argument("port", type=int)
    c.add_argument("--conns", type=int, default=200)
    c.add_argument("--duration", type=float, required=True)
    c.add_argument("--interval", type=float, default=0.1)
    c.add_argument("--new-per-s", type=float, default=0)
    c.add_argument("--new-host")
    c.add_argument("--report", required=True)
    c.add_argument("--ready")
    c.add_argument("--progress")
    q = sub.add_parser("probe")
    q.add_argument("host")
    q.add_argument("port", type=int)
    q.add_argument("--timeout", type=float, default=5)
    a = p.parse_args()
    if a.cmd == "server":
        asyncio.run(serve(a.name, a.port))
    elif a.cmd == "probe":
        sys.exit(asyncio.run(probe(a)))
    else:
        # Bounded: a run is never longer than an hour, nor wider than 5000.
        if not (0 < a.duration <= 3600 and 0 <= a.conns <= 5000 and a.new_per_s <= 500):
            p.error("duration 0..3600 s, conns 0..5000, new-per-s <= 500")
        rep = asyncio.run(Client(a).run())
        with open(a.report + ".tmp", "w") as f:
            json.dump(rep, f)
        os.replace(a.report + ".tmp", a.report)
        print("opened %d alive %d resets %d timeouts %d other %d connect_errors %s "
              "longest_stall_ms %.0f per_backend %s new_ok %d new_failed %d" % (
                  rep["opened"], rep["alive"], rep["resets"], rep["timeouts"],
                  rep["other_errors"], rep["connect_errors"], rep["longest_stall_ms"],
                  json.dumps(rep["per_backend"], sort_keys=True),
                  rep["new"]["ok"], rep["new"]["failed"]), flush=True)


if __name__ == "__main__":
    main()
