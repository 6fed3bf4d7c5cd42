"""A PostgreSQL cluster of a test's own, which the test may stop and restart (outage tests).

The session's server (``postgres_server`` in conftest.py) is shared by every test and must stay
up; a test that takes the server away starts its own with this.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from registry_support import PostgresServer, free_port, pg_bin_dir


def _run_as() -> list[str]:
    """initdb refuses root: run the server as ``nobody`` then."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", "nobody", "--"]
    user = pwd.getpwnam("nobody")
    setpriv = shutil.which("setpriv")
    if setpriv:
        return [setpriv, f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
    raise RuntimeError("以 root 运行且没有 runuser/setpriv,无法启动 PostgreSQL")


@dataclass
class Cluster:
    """``password``: the superuser's, and every connection must give one (SCRAM), over TCP on
    127.0.0.1 with SSL (a self-signed certificate) and the socket; else trust, socket only."""

    base: Path
    port: int = field(default_factory=free_port)
    password: str | None = None

    def __post_init__(self) -> None:
        bin_dir = pg_bin_dir()
        assert bin_dir is not None
        self.bin = bin_dir
        self.run_as = _run_as()
        self.base.mkdir(parents=True, exist_ok=True)
        if self.run_as:
            user = pwd.getpwnam("nobody")
            os.chown(self.base, user.pw_uid, user.pw_gid)
        self.env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        auth = ["-A", "trust"]
        if self.password is not None:
            pwfile = self.base / "pwfile"
            pwfile.write_text(self.password + "\n")
            self._own(pwfile)
            auth = ["-A", "scram-sha-256", f"--pwfile={pwfile}"]
            self._certificate()
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", *auth, "-E", "UTF8",
                 "--no-sync")  # fmt: skip

    def _own(self, path: Path) -> None:
        if self.run_as:
            user = pwd.getpwnam("nobody")
            os.chown(path, user.pw_uid, user.pw_gid)

    def _certificate(self) -> None:
        """A self-signed server certificate (``sslmode=require`` encrypts, does not verify)."""
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-keyout", str(self.base / "server.key"),
             "-out", str(self.base / "server.crt")],
            check=True, capture_output=True,
        )  # fmt: skip
        for name in ("server.key", "server.crt"):
            (self.base / name).chmod(0o600)
            self._own(self.base / name)

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def server(self) -> PostgresServer:
        return PostgresServer(self.base, self.port)

    def ctl_command(self, *args: str) -> list[str]:
        options = f"-p {self.port} -k {self.base} -c listen_addresses='' -c fsync=off"
        if self.password is not None:
            options = (
                f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
                f" -c ssl=on -c ssl_cert_file={self.base}/server.crt"
                f" -c ssl_key_file={self.base}/server.key"
            )
        return [
            *self.run_as, str(self.bin / "pg_ctl"), "-D", str(self.data),
            "-l", str(self.base / "server.log"), "-o", options, "-w", "-t", "60", *args,
        ]  # fmt: skip

    def _pg(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self.run_as, str(self.bin / program), *args],
            check=True, capture_output=True, env=self.env, cwd=self.base,
        )  # fmt: skip

    def start(self) -> None:
        subprocess.run(self.ctl_command("start"), check=True, capture_output=True, env=self.env,
                       cwd=self.base)  # fmt: skip

    def stop(self) -> None:
        subprocess.run(self.ctl_command("-m", "fast", "stop"), check=True, capture_output=True,
                       env=self.env, cwd=self.base)  # fmt: skip

    def destroy(self) -> None:
        subprocess.run(self.ctl_command("-m", "immediate", "stop"), capture_output=True,
                       env=self.env, cwd=self.base)  # fmt: skip
        shutil.rmtree(self.base, ignore_errors=True)
