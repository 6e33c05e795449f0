"""nginx (Debian's package) in front of the Rasa servers, unprivileged, with a config rendered from
scripts/nginx.conf.j2 for the chosen ports:

    python -m scripts.nginx render --listen 5005 --upstream 127.0.0.1:5006 --upstream 127.0.0.1:5007 var/prod/nginx

`scripts.prod` renders and starts it; this command only writes the config (to read or to copy).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATE = Path(__file__).with_name("nginx.conf.j2")
TEMP_DIRS = ("body", "proxy", "fastcgi", "uwsgi", "scgi")
# nginx started by root would run its workers as `nobody`; we start it as this user instead.
UNPRIVILEGED_USER = "www-data"


def nginx_binary() -> str:
    # /usr/sbin is not on an ordinary user's PATH on Debian.
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if found is None:
        raise RuntimeError("nginx is not installed (apt-get install nginx, or `make system-packages`)")
    return found


def open_files_limit(wanted: int = 16384) -> int:
    """As many descriptors as the hard limit allows (runuser resets the soft limit to 1024)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)


@dataclass(frozen=True)
class NginxConfig:
    """Where nginx listens, the Rasa servers behind it, and its limits."""

    listen: str  # "127.0.0.1:5005" or a port
    upstreams: Sequence[str]  # "host:port" of each Rasa server
    directory: Path  # config, pid file, temp paths and access log live here
    max_body: str = "1m"
    read_timeout: str = "120s"
    rate_per_address: str = "10r/s"  # requests per client address (loopback exempt), nginx's notation
    burst: int = 40

    def render(self) -> str:
        environment = Environment(
            loader=FileSystemLoader(TEMPLATE.parent), undefined=StrictUndefined, keep_trailing_newline=True
        )
        return environment.get_template(TEMPLATE.name).render(
            listen=self.listen,
            upstreams=list(self.upstreams),
            directory=self.directory.resolve(),
            max_body=self.max_body,
            read_timeout=self.read_timeout,
            open_files=open_files_limit(),
            rate_per_address=self.rate_per_address,
            burst=self.burst,
        )

    def write(self) -> Path:
        """Render into `directory` (with its temp paths); the path of nginx.conf."""
        if not self.upstreams:
            raise ValueError("nginx needs at least one Rasa server")
        for sub in TEMP_DIRS:
            (self.directory / "temp" / sub).mkdir(parents=True, exist_ok=True)
        path = self.directory / "nginx.conf"
        path.write_text(self.render(), encoding="utf-8")
        if os.geteuid() == 0:
            for item in [self.directory, *self.directory.rglob("*")]:
                shutil.chown(item, UNPRIVILEGED_USER, UNPRIVILEGED_USER)
        return path

    def command(self) -> List[str]:
        """The foreground nginx command; as root it runs as an unprivileged user instead."""
        prefix = ["runuser", "-u", UNPRIVILEGED_USER, "--"] if os.geteuid() == 0 else []
        conf = (self.directory / "nginx.conf").resolve()
        return prefix + [nginx_binary(), "-e", "stderr", "-p", str(self.directory.resolve()), "-c", str(conf)]

    def check(self) -> None:
        """`nginx -t` on the written config: a clear error before anything starts."""
        result = subprocess.run(self.command() + ["-t", "-q"], capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            raise RuntimeError(f"nginx refuses {self.directory / 'nginx.conf'}: {result.stderr.strip()[-600:]}")

    def reload(self, settle: float = 1.0) -> None:
        """Make the running nginx read the written config (new workers; the old ones finish their requests)."""
        self.check()
        result = subprocess.run(self.command() + ["-s", "reload"], capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            raise RuntimeError(f"nginx reload failed: {result.stderr.strip()[-600:]}")
        time.sleep(settle)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.nginx", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="write nginx.conf for these ports into DIRECTORY")
    render.add_argument("directory", type=Path)
    render.add_argument("--listen", default="127.0.0.1:5005")
    render.add_argument("--upstream", action="append", required=True, help="a Rasa server host:port (repeat)")
    args = parser.parse_args(argv)
    config = NginxConfig(args.listen, args.upstream, args.directory)
    print(config.write())


if __name__ == "__main__":
    main()
