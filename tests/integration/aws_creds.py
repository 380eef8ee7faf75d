"""Container and EC2 IMDSv2 credential providers against a local HTTP server.

Never touches 169.254.169.254: IMDS is reached through
AWS_EC2_METADATA_SERVICE_ENDPOINT, containers through
AWS_CONTAINER_CREDENTIALS_FULL_URI. Checks the Authorization token (env and
file), the IMDSv2 session token, refresh of credentials that expire within
5 minutes, expired credentials, and that no secret appears in an error.
"""
import datetime
import json
import os
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from s3_testlib import check, done, driver  # noqa: E402

SECRET = "TopSecret/Value+ShouldNeverAppear"
S = {"n": 0, "expire_in": 3600, "bad": False, "auth_seen": None}


def creds_body():
    S["n"] += 1
    exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=S["expire_in"])
    if S["bad"]:
        return ('{"AccessKeyId": "AKID", "SecretAccessKey": "' + SECRET + '"').encode()  # broken JSON
    return json.dumps({"Code": "Success", "AccessKeyId": f"AKIDREMOTE{S['n']}", "SecretAccessKey": SECRET,
                       "Token": f"TOKEN{S['n']}", "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ")}).encode()


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, code, body):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(200, b"IMDSTOKEN")
        self.reply(403, b"")

    def do_GET(self):
        if self.path.startswith("/latest/meta-data/iam/security-credentials/"):
            if self.headers.get("X-aws-ec2-metadata-token") != "IMDSTOKEN":
                return self.reply(401, b"")
            role = self.path.rsplit("/", 1)[1]
            if not role:
                return self.reply(200, b"test-role\n")
            return self.reply(200, creds_body()) if role == "test-role" else self.reply(404, b"")
        if self.path == "/container/creds":
            S["auth_seen"] = self.headers.get("Authorization")
            return self.reply(200, creds_body())
        self.reply(404, b"")


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{srv.server_address[1]}"

clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
clean.update(AWS_SHARED_CREDENTIALS_FILE="/nonexistent/c", AWS_CONFIG_FILE="/nonexistent/k",
             AWS_EC2_METADATA_DISABLED="true")

# container, token from env
env = dict(clean, AWS_CONTAINER_CREDENTIALS_FULL_URI=f"{base}/container/creds",
           AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer abc")
out, _ = driver("creds", env=env)
check("container credentials", out.startswith("container AKIDREMOTE") and " TOKEN" in out, out)
check("container Authorization header", S["auth_seen"] == "Bearer abc", S["auth_seen"])
check("secret not printed", SECRET not in out)
# token from a file
with tempfile.NamedTemporaryFile("w", delete=False) as f:
    f.write("file-token\n")
env2 = dict(clean, AWS_CONTAINER_CREDENTIALS_FULL_URI=f"{base}/container/creds",
            AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=f.name)
out, _ = driver("creds", env=env2)
check("container token file", S["auth_seen"] == "file-token" and out.startswith("container"), (out, S["auth_seen"]))
os.unlink(f.name)
# env credentials win over the container
out, _ = driver("creds", env=dict(env, AWS_ACCESS_KEY_ID="AKIDENV", AWS_SECRET_ACCESS_KEY="x"))
check("environment first", out.startswith("env AKIDENV"), out)

# IMDSv2
envi = dict(clean, AWS_EC2_METADATA_DISABLED="false", AWS_EC2_METADATA_SERVICE_ENDPOINT=base)
out, _ = driver("creds", env=envi)
check("IMDSv2 credentials", out.startswith("imds AKIDREMOTE"), out)
out, _ = driver("creds", env=dict(envi, AWS_EC2_METADATA_DISABLED="true"))
check("AWS_EC2_METADATA_DISABLED=true turns IMDS off", out.startswith("ERROR") and "no AWS credentials" in out, out)

# refresh before expiry: within 5 minutes of Expiration the next get refetches
S["expire_in"] = 120
n0 = S["n"]
out, _ = driver("creds", env=envi)
check("expiring credentials are refreshed", S["n"] >= n0 + 2, (S["n"], n0, out))
S["expire_in"] = 3600
n0 = S["n"]
driver("creds", env=envi)
check("fresh credentials are cached", S["n"] == n0 + 1, (S["n"], n0))

# expired credentials
S["expire_in"] = -600
out, _ = driver("creds", env=envi)
check("expired credentials: clear error", out.startswith("ERROR access denied") and "expired" in out, out)
S["expire_in"] = 3600

# malformed reply holding the secret: error without the secret
S["bad"] = True
out, _ = driver("creds", env=env)
check("malformed container reply", out.startswith("ERROR") and "not JSON" in out, out)
check("... without echoing the secret", SECRET not in out, out)
S["bad"] = False

# unreachable IMDS: quick failure
import time  # noqa: E402
t0 = time.time()
out, _ = driver("creds", env=dict(envi, AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:9"))
check("unreachable IMDS fails fast", out.startswith("ERROR") and time.time() - t0 < 5, out)
srv.shutdown()
done()
