"""A local S3 endpoint: moto_server over HTTP, reached with boto3 exactly as AWS or MinIO would be."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from recon.stack import procs
from recon.stack.config import StackConfig


def _moto_server() -> str:
    local = Path(sys.executable).parent / "moto_server"
    found = str(local) if local.exists() else shutil.which("moto_server")
    if not found:
        raise SystemExit("moto_server not found: install requirements.txt (moto[server]) into this virtualenv")
    return found


def is_running(cfg: StackConfig) -> bool:
    return procs.pid_alive(cfg.stack_dir / "moto" / "moto.pid") is not None and procs.port_open(cfg.s3_host,
                                                                                                 cfg.s3_port)


def start(cfg: StackConfig) -> None:
    d = cfg.stack_dir / "moto"
    d.mkdir(parents=True, exist_ok=True)
    if is_running(cfg):
        print(f"S3 endpoint already running at {cfg.s3_endpoint}")
        return
    if procs.port_open(cfg.s3_host, cfg.s3_port):
        raise SystemExit(f"port {cfg.s3_port} is taken by another process: set RECON_S3_PORT to a free port")
    procs.start_detached([_moto_server(), "-H", cfg.s3_host, "-p", str(cfg.s3_port)], d / "moto.pid",
                         d / "moto.log")
    procs.wait_for(lambda: procs.port_open(cfg.s3_host, cfg.s3_port), "moto S3 server", d / "moto.log")
    print(f"S3 endpoint (moto) running at {cfg.s3_endpoint}; its objects live in memory until `make down`")


def stop(cfg: StackConfig) -> None:
    if not procs.stop(cfg.stack_dir / "moto" / "moto.pid", "moto S3 server"):
        print("moto S3 server was not running")
