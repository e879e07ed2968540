"""keel serve end to end: a real `keel serve` process on a loopback port, called
over real HTTP. Embeddings are compared with `keel embed` (bit for bit, whatever
batch a request landed in), token ids with `keel tokenize` / `keel detokenize`,
and the official OpenAI Node client is one of the callers."""
import base64
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import requests

from serve_test_util import Server, make_minilm

KEEL = os.environ["KEEL_BIN"]
SOURCE = Path(os.environ["KEEL_SOURCE_DIR"])
PEERS = os.environ["KEEL_PEERS"]
TMP = Path(os.environ["KEEL_TEST_TMP"]) / "server"

TEXTS = [
    "hello world",
    "The quick brown fox jumps over the lazy dog.",
    "keel serves sentence embeddings over HTTP",
    "Ünïcödé, 日本語のテキスト and emoji 🚀",
    "a",
    "short",
    "A somewhat longer sentence, with punctuation; numbers 12345 and MiXeD case words.",
    " ".join(f"word{i}" for i in range(60)),
]
LONG = " ".join(["embedding"] * 400)  # > 256 tokens, MiniLM's max_seq_length


def keel_embed(model_dir, texts):
    lines = "".join(json.dumps(t) + "\n" for t in texts)
    p = subprocess.run([KEEL, "embed", "--model", str(model_dir), "--threads", "1"], input=lines,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return np.array([json.loads(l) for l in p.stdout.splitlines()], dtype=np.float32)


@pytest.fixture(scope="module")
def models():
    TMP.mkdir(parents=True, exist_ok=True)
    return make_minilm(TMP / "mini-a", 5), make_minilm(TMP / "mini-b", 6)


@pytest.fixture(scope="module")
def expected(models):
    a, b = models
    return {"a": keel_embed(a, TEXTS + [LONG]), "b": keel_embed(b, TEXTS)}


@pytest.fixture(scope="module")
def server(models):
    s = Server("--served-name", "mini", "--served-name", "mini2", models=models)
    yield s
    assert s.stop() == 0, "".join(s.log)


def embeddings(server, inputs, **extra):
    r = server.post("/v1/embeddings", {"model": "mini", "input": inputs, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def vectors(body):
    return np.array([d["embedding"] for d in sorted(body["data"], key=lambda d: d["index"])], dtype=np.float32)


def assert_error(r, status, code=None, param=None, contains=None):
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"} and err["message"]
    if code is not None:
        assert err["code"] == code
    if param is not None:
        assert err["param"] == param
    if contains is not None:
        assert contains in err["message"], err["message"]
    return err


# ---- embeddings: the same vectors as `keel embed` ----

def test_openai_embeddings_match_cli(server, expected):
    body = embeddings(server, TEXTS)
    assert body["object"] == "list" and body["model"] == "mini"
    assert [d["index"] for d in body["data"]] == list(range(len(TEXTS)))
    assert np.array_equal(vectors(body), expected["a"][:len(TEXTS)])
    single = embeddings(server, TEXTS[1])
    assert np.array_equal(vectors(single)[0], expected["a"][1])


def test_base64_is_the_float32_bytes(server, expected):
    body = embeddings(server, TEXTS, encoding_format="base64")
    got = np.stack([np.frombuffer(base64.b64decode(d["embedding"]), dtype="<f4") for d in body["data"]])
    assert np.array_equal(got, expected["a"][:len(TEXTS)])


def test_usage_counts_the_tokens(server):
    toks = server.post("/tokenize", {"inputs": TEXTS, "model": "mini"}).json()
    body = embeddings(server, TEXTS)
    n = sum(len(t) for t in toks)
    assert body["usage"] == {"prompt_tokens": n, "total_tokens": n}


def test_token_id_inputs(server, expected):
    ids = [[t["id"] for t in seq] for seq in server.post("/tokenize", {"inputs": TEXTS, "model": "mini"}).json()]
    assert np.array_equal(vectors(embeddings(server, ids)), expected["a"][:len(TEXTS)])
    assert np.array_equal(vectors(embeddings(server, ids[2]))[0], expected["a"][2])


def test_dimensions_truncate_and_renormalize(server, expected):
    got = vectors(embeddings(server, TEXTS, dimensions=64))
    ref = expected["a"][:len(TEXTS), :64].astype(np.float64)
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    assert got.shape == (len(TEXTS), 64)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)


def test_second_model_by_name(server, expected):
    r = server.post("/v1/embeddings", {"model": "mini2", "input": TEXTS})
    assert r.status_code == 200 and r.json()["model"] == "mini2"
    assert np.array_equal(vectors(r.json()), expected["b"])
    assert not np.array_equal(expected["a"][:len(TEXTS)], expected["b"])


def test_tei_embed(server, expected):
    r = server.post("/embed", {"inputs": TEXTS, "model": "mini"})
    assert r.status_code == 200, r.text
    assert np.array_equal(np.array(r.json(), dtype=np.float32), expected["a"][:len(TEXTS)])
    one = server.post("/embed", {"inputs": TEXTS[0], "model": "mini"}).json()
    assert np.array_equal(np.array(one, dtype=np.float32)[0], expected["a"][0])
    raw = np.array(server.post("/embed", {"inputs": TEXTS, "normalize": False, "model": "mini"}).json())
    norms = np.linalg.norm(raw, axis=1)
    assert np.all(np.abs(norms - 1) > 1e-3)  # mean pooling of random weights is far from unit length
    np.testing.assert_allclose(raw / norms[:, None], expected["a"][:len(TEXTS)], rtol=0, atol=1e-6)


def test_truncation(server, expected):
    r = server.post("/embed", {"inputs": [LONG], "truncate": True, "model": "mini"})
    assert r.status_code == 200, r.text
    assert np.array_equal(np.array(r.json(), dtype=np.float32)[0], expected["a"][len(TEXTS)])  # keel embed truncates
    assert_error(server.post("/embed", {"inputs": [LONG], "model": "mini"}), 400, contains="256")
    assert_error(server.post("/v1/embeddings", {"model": "mini", "input": ["ok", LONG]}), 400,
                 code="context_length_exceeded", param="input", contains="256")


def test_concurrent_clients_any_batch(server, expected):
    # Many clients at once: requests share batches in whatever way they arrive;
    # every vector must still equal keel embed's, bit for bit.
    jobs = []
    for i in range(48):
        k = i % len(TEXTS)
        jobs.append([k] if i % 3 else [k, (k + 3) % len(TEXTS), (k + 5) % len(TEXTS)])

    def call(idx):
        with requests.Session() as s:
            r = s.post(server.url + "/v1/embeddings", json={"model": "mini", "input": [TEXTS[j] for j in idx]},
                       timeout=120)
            return idx, r.status_code, r.json()

    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(call, jobs))
    for idx, status, body in results:
        assert status == 200, body
        assert np.array_equal(vectors(body), expected["a"][idx])
    text = requests.get(server.url + "/metrics", timeout=30).text
    assert re.search(r'^keel_batch_size_count \d+$', text, re.M)


# ---- tokenize / detokenize: the same as the CLI ----

def test_tokenize_matches_cli(server, models):
    lines = "".join(json.dumps(t) + "\n" for t in TEXTS)
    p = subprocess.run([KEEL, "tokenize", "--tokenizer", str(models[0]), "--no-truncation", "--no-padding"],
                       input=lines, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    cli = [json.loads(l) for l in p.stdout.splitlines()]
    got = server.post("/tokenize", {"inputs": TEXTS, "model": "mini"}).json()
    assert [[t["id"] for t in seq] for seq in got] == [c["ids"] for c in cli]
    assert [[t["text"] for t in seq] for seq in got] == [c["tokens"] for c in cli]
    assert got[0][0]["special"] and not got[0][1]["special"]
    plain = server.post("/tokenize", {"inputs": TEXTS[0], "add_special_tokens": False, "model": "mini"}).json()
    assert [t["id"] for t in plain[0]] == cli[0]["ids"][1:-1]


def test_detokenize_matches_cli(server, models):
    ids = [[t["id"] for t in seq] for seq in server.post("/tokenize", {"inputs": TEXTS, "model": "mini"}).json()]
    lines = "".join(json.dumps(i) + "\n" for i in ids)

    def cli(*flags):
        p = subprocess.run([KEEL, "detokenize", "--tokenizer", str(models[0]), *flags], input=lines,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        return [json.loads(l) for l in p.stdout.splitlines()]

    skipped, kept = cli("--skip-special"), cli()
    assert skipped != kept
    assert server.post("/detokenize", {"ids": ids, "model": "mini"}).json() == skipped
    assert server.post("/detokenize", {"ids": ids[0], "model": "mini"}).json() == skipped[:1]
    assert server.post("/detokenize", {"ids": ids, "model": "mini", "skip_special_tokens": False}).json() == kept


# ---- the other routes ----

def test_models_health_ready_metrics(server):
    r = requests.get(server.url + "/v1/models", timeout=30)
    assert r.status_code == 200
    assert [m["id"] for m in r.json()["data"]] == ["mini", "mini2"]
    assert r.json()["data"][0]["object"] == "model"
    assert requests.get(server.url + "/health", timeout=30).json() == {"status": "ok"}
    assert requests.get(server.url + "/ready", timeout=30).status_code == 200
    embeddings(server, "metrics")
    server.post("/v1/embeddings", {"input": "x", "model": "nope"})
    text = requests.get(server.url + "/metrics", timeout=30).text
    assert re.search(r'^keel_requests_total\{route="/v1/embeddings",status="200"\} [1-9]', text, re.M)
    assert re.search(r'^keel_requests_total\{route="/v1/embeddings",status="404"\} [1-9]', text, re.M)
    for h in ["keel_queue_seconds", "keel_compute_seconds", "keel_request_seconds", "keel_batch_size",
              "keel_batch_tokens"]:
        assert f"# TYPE {h} histogram" in text
        assert re.search(rf'^{h}_bucket{{le="\+Inf"}} [1-9]', text, re.M), h
    assert re.search(r"^keel_requests_in_flight \d+$", text, re.M)
    assert server.metric("process_resident_memory_bytes") > 1e6


def test_keep_alive(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    socks = set()
    for i in range(5):
        conn.request("POST", "/v1/embeddings", body=json.dumps({"model": "mini", "input": TEXTS[i]}),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        assert r.status == 200 and r.getheader("Connection", "").lower() != "close"
        r.read()
        socks.add(id(conn.sock))
    assert len(socks) == 1 and conn.sock is not None
    conn.close()


# ---- errors ----

def test_request_errors(server):
    post = server.post
    assert_error(requests.post(server.url + "/v1/embeddings", data=b"{not json", timeout=30), 400, code="invalid_json")
    assert_error(requests.post(server.url + "/v1/embeddings", data=b"\xff\xfe", timeout=30), 400)
    assert_error(post("/v1/embeddings", [1, 2]), 400)
    assert_error(post("/v1/embeddings", {"model": "mini"}), 400, param="input")
    for bad in [5, [], "", [""], [1.5], ["a", 1], [[1, 2], 3], [{"a": 1}], [[]], True, [-1], [10 ** 9],
                [[101, 2 ** 70]]]:
        assert_error(post("/v1/embeddings", {"model": "mini", "input": bad}), 400, param="input")
    assert_error(post("/v1/embeddings", {"model": 3, "input": "x"}), 400, param="model")
    assert_error(post("/v1/embeddings", {"input": "x"}), 400, param="model")  # two models: which one?
    assert_error(post("/v1/embeddings", {"model": "nope", "input": "x"}), 404, code="model_not_found")
    assert_error(post("/embed", {"model": "nope", "inputs": "x"}), 404, code="model_not_found")
    for fmt in ["int8", 3]:
        assert_error(post("/v1/embeddings", {"model": "mini", "input": "x", "encoding_format": fmt}), 400,
                     param="encoding_format")
    for dims in [0, 385, "8", 2.5]:
        assert_error(post("/v1/embeddings", {"model": "mini", "input": "x", "dimensions": dims}), 400,
                     param="dimensions")
    assert_error(post("/embed", {"model": "mini", "inputs": "x", "normalize": "yes"}), 400, param="normalize")
    assert_error(post("/embed", {"model": "mini", "inputs": [[101, 102]]}), 400, param="inputs")
    assert_error(post("/tokenize", {"model": "mini"}), 400, param="inputs")
    assert_error(post("/detokenize", {"model": "mini", "ids": [1, "x"]}), 400, param="ids")
    assert_error(post("/detokenize", {"model": "mini", "ids": [10 ** 8]}), 400, param="ids")
    assert_error(post("/nowhere", {}), 404)
    assert_error(requests.get(server.url + "/v1/embeddings", timeout=30), 405)
    # Hostile JSON: deep nesting and huge numbers are errors, not crashes.
    assert_error(requests.post(server.url + "/v1/embeddings", data=b"[" * 200000, timeout=30), 400)
    assert_error(post("/v1/embeddings", {"model": "mini", "input": [[1] * 100000]}), 400,
                 code="context_length_exceeded")
    assert requests.get(server.url + "/health", timeout=30).status_code == 200


def raw_exchange(port, data, timeout=30):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                c = s.recv(65536)
            except ConnectionResetError:
                break
            if not c:
                break
            chunks.append(c)
        return b"".join(chunks)


def test_body_limit_413(server):
    # The limit is checked against Content-Length before the body is read ...
    head = (b"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 3000000\r\n\r\n")
    reply = raw_exchange(server.port, head)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b'"code":"request_too_large"' in reply
    # ... and a client that sends the whole body anyway still gets the answer.
    big = {"model": "mini", "input": ["x" * 1000] * 3000}
    assert_error(server.post("/v1/embeddings", big), 413)


def test_malformed_http_400(server):
    for junk in [b"GARBAGE\r\n\r\n", b"POST /v1/embeddings HTTP/1.1\r\nContent-Length: zz\r\n\r\n",
                 b"\x00\x01\x02\r\n\r\n"]:
        reply = raw_exchange(server.port, junk)
        assert reply.startswith(b"HTTP/1.1 400"), reply[:200]
    reply = raw_exchange(server.port, b"GET /health HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 431"), reply[:200]
    assert requests.get(server.url + "/health", timeout=30).status_code == 200


# ---- servers with other flags ----

def test_api_key_and_access_log(models):
    s = Server("--api-key", "s3cret", "--access-log", models=models[:1])
    try:
        url = s.url + "/v1/embeddings"
        assert_error(requests.post(url, json={"input": "x"}, timeout=30), 401, code="invalid_api_key")
        for bad in ["Bearer s3cre", "Bearer s3cret2", "s3cret", "Bearer S3CRET"]:
            assert_error(requests.post(url, json={"input": "x"}, headers={"Authorization": bad}, timeout=30), 401)
        r = requests.post(url, json={"input": "x"}, headers={"Authorization": "Bearer s3cret"}, timeout=30)
        assert r.status_code == 200, r.text  # one model: 'model' may be left out
        assert requests.get(s.url + "/health", timeout=30).status_code == 200
    finally:
        assert s.stop() == 0
    log = "".join(s.log)
    assert re.search(r'method=POST path="/v1/embeddings" status=401 latency_ms=[\d.]+ tokens=0', log), log
    assert re.search(r'method=POST path="/v1/embeddings" status=200 latency_ms=[\d.]+ tokens=3', log), log


def test_read_timeouts_close_stalled_clients(models):
    s = Server("--header-timeout-ms", "300", "--body-timeout-ms", "300", models=models[:1])
    try:
        for partial in [b"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\n",
                        b"POST /v1/embeddings HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"input\":"]:
            with socket.create_connection(("127.0.0.1", s.port), timeout=30) as c:
                c.sendall(partial)
                assert c.recv(1024) == b""  # closed by the server, not by our 30 s timeout
        assert requests.get(s.url + "/health", timeout=30).status_code == 200
    finally:
        assert s.stop() == 0


def slow_request(n=256):
    return {"input": [" ".join(f"token{i}x{k}" for k in range(40)) for i in range(n)]}


def test_429_when_full(models):
    s = Server("--max-concurrent-requests", "1", "--max-batch-tokens", "512", models=models[:1])
    try:
        statuses = []
        for attempt in range(3):  # a bigger first request each time, should the machine be very fast
            big = slow_request(64 * 4 ** attempt)
            with ThreadPoolExecutor(1) as pool:
                first = pool.submit(lambda: requests.post(s.url + "/v1/embeddings", json=big, timeout=300))
                while s.metric("keel_requests_in_flight") != 1 and not first.done():
                    time.sleep(0.005)
                r = requests.post(s.url + "/v1/embeddings", json={"input": "x"}, timeout=60)
                statuses.append(r.status_code)
                assert first.result().status_code == 200
            if r.status_code == 429:
                assert r.headers["Retry-After"] == "1"
                assert_error(r, 429)
                break
        assert 429 in statuses, statuses
    finally:
        assert s.stop() == 0


def test_429_when_the_queue_is_full(models):
    # --max-queue 1: once a large job's first batch is computing, the job holds
    # the only queue slot (its other sequences wait for later batches), and
    # another request is refused with 429.
    s = Server("--max-queue", "1", "--max-batch-tokens", "128", models=models[:1])
    try:
        statuses = []
        for attempt in range(3):
            big = slow_request(64 * 4 ** attempt)
            batches = s.metric("keel_batch_size_count") or 0
            with ThreadPoolExecutor(1) as pool:
                first = pool.submit(lambda: requests.post(s.url + "/v1/embeddings", json=big, timeout=300))
                while (s.metric("keel_batch_size_count") or 0) == batches and not first.done():
                    time.sleep(0.002)
                r = requests.post(s.url + "/v1/embeddings", json={"input": "x"}, timeout=60)
                statuses.append(r.status_code)
                assert first.result().status_code == 200
            if r.status_code == 429:
                assert r.headers["Retry-After"] == "1"
                assert_error(r, 429, code="queue_full")
                break
        assert 429 in statuses, statuses
    finally:
        assert s.stop() == 0


def test_shutdown_finishes_requests_in_flight(models, expected):
    s = Server("--max-batch-tokens", "256", models=models[:1])
    n = 12
    done = []

    def call(i):
        idx = [(i + k) % len(TEXTS) for k in range(6)]
        try:
            r = requests.post(s.url + "/v1/embeddings", json={"input": [TEXTS[j] for j in idx]}, timeout=120)
            done.append((idx, r.status_code, r.json()))
        except requests.RequestException as e:
            done.append((idx, None, repr(e)))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    # Every request has reached the server (in flight or already answered)?
    deadline = time.time() + 60
    while time.time() < deadline:
        in_flight = s.metric("keel_requests_in_flight") or 0
        if in_flight + len(done) >= n:
            break
        time.sleep(0.002)
    # A request pipelined behind one in flight on the same connection is answered 503.
    pipe = socket.create_connection(("127.0.0.1", s.port), timeout=60)
    body = json.dumps(slow_request(64)).encode()
    req = b"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    tail = b'{"input":"x"}'
    pipe.sendall(req + b"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(tail), tail))
    while (s.metric("keel_requests_in_flight") or 0) < 1:
        time.sleep(0.002)
    s.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(timeout=120)
    replies = b""
    while True:
        c = pipe.recv(65536)
        if not c:
            break
        replies += c
    pipe.close()
    assert s.stop() == 0, "".join(s.log)
    assert len(done) == n
    for idx, status, body in done:
        assert status == 200, body  # none lost
        assert np.array_equal(vectors(body), expected["a"][idx])
    assert replies.startswith(b"HTTP/1.1 200"), replies[:200]
    assert b"HTTP/1.1 503" in replies and b"shutting down" in replies


def raw_post(body):
    data = json.dumps(body).encode()
    return b"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(data), data)


def read_responses(sock, n):
    """n HTTP responses with Content-Length bodies, as (status, body)."""
    buf, out = b"", []
    while len(out) < n:
        while b"\r\n\r\n" not in buf:
            c = sock.recv(65536)
            assert c, f"connection closed after {len(out)} responses"
            buf += c
        head, buf = buf.split(b"\r\n\r\n", 1)
        length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))
        while len(buf) < length:
            c = sock.recv(65536)
            assert c, "connection closed inside a body"
            buf += c
        out.append((int(head.split(b" ")[1]), buf[:length]))
        buf = buf[length:]
    return out


def test_requests_of_clients_that_left_are_dropped(models):
    # Eight clients each send a large request (256 long inputs) and close their
    # connections once all eight are in flight. Nobody will read those answers:
    # the server stops computing them (the scheduler drops the batches not yet
    # started) and counts them as 499, instead of working through ~100 s of
    # abandoned queue first, as it did before.
    s = Server("--max-batch-tokens", "512", "--access-log", models=models[:1])
    try:
        big = raw_post(slow_request(256))
        clients = []
        for _ in range(8):
            c = socket.create_connection(("127.0.0.1", s.port), timeout=60)
            c.sendall(big)
            clients.append(c)
        deadline = time.time() + 60
        while s.metric("keel_requests_in_flight") != 8:
            assert time.time() < deadline, "".join(s.log)
            time.sleep(0.005)
        for c in clients:
            c.close()
        deadline = time.time() + 60
        while s.metric("keel_requests_in_flight") != 0:
            assert time.time() < deadline, "the abandoned requests are still being computed"
            time.sleep(0.01)
        tokens = requests.post(s.url + "/tokenize", json={"inputs": slow_request(256)["input"]}, timeout=60).json()
        submitted = 8 * sum(len(t) for t in tokens)
        computed = s.metric("keel_batch_tokens_sum")
        assert computed < submitted / 2, (computed, submitted)
        assert s.metric('keel_requests_total{route="/v1/embeddings",status="499"}') == 8
        # The server is free for the next client at once.
        r = requests.post(s.url + "/v1/embeddings", json={"input": TEXTS[:2]}, timeout=60)
        assert r.status_code == 200
    finally:
        assert s.stop() == 0, "".join(s.log)
    assert sum("status=499" in line for line in s.log) == 8


def test_pipelined_requests_behind_a_slow_one(server, expected):
    # The second and third requests arrive while the first is computing (the
    # server reads ahead to notice a client leaving); each is answered, in order.
    with socket.create_connection(("127.0.0.1", server.port), timeout=120) as c:
        c.sendall(raw_post({"model": "mini", "input": slow_request(64)["input"]}) +
                  raw_post({"model": "mini", "input": TEXTS[:3]}) + raw_post({"model": "mini", "input": TEXTS[3]}))
        replies = read_responses(c, 3)
    assert [status for status, _ in replies] == [200, 200, 200]
    assert len(json.loads(replies[0][1])["data"]) == 64
    assert np.array_equal(vectors(json.loads(replies[1][1])), expected["a"][:3])
    assert np.array_equal(vectors(json.loads(replies[2][1])), expected["a"][3:4])


# ---- the official OpenAI client ----

def test_openai_node_client(server, expected, models):
    inputs = TMP / "openai_inputs.json"
    inputs.write_text(json.dumps(TEXTS))
    p = subprocess.run(["node", str(SOURCE / "tests" / "server" / "openai_client.js"), PEERS, server.url + "/v1",
                        "mini", str(inputs)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    ref = expected["a"][:len(TEXTS)]
    assert np.array_equal(np.array(out["float"], dtype=np.float32), ref)
    assert np.array_equal(np.stack([np.frombuffer(base64.b64decode(b), dtype="<f4") for b in out["base64"]]), ref)
    assert np.array_equal(np.array(out["decoded"], dtype=np.float32), ref)
    assert out["model"] == "mini" and out["usage"]["prompt_tokens"] > len(TEXTS)
