"""A secret scanner for the repository and for the logs the stack writes (tests/unit/test_secret_scan.py runs it).

Two scans:
- `scan_repository`: every file git tracks or would track (`git ls-files --cached --others --exclude-standard`), for
  things that look like a secret: private keys, AWS-style access keys, tokens of known services, password / secret
  assignments with a literal value, passwords inside connection URIs, `${SECRET:-default}` defaults, and long random
  (high-entropy) strings. Exceptions are listed in ALLOWED, each with its reason.
- `scan_for_values`: files (logs) for the actual secret values, e.g. every value of `.stack/credentials.env`,
  as they are and URL-encoded (as they appear inside a connection URI).
"""
from __future__ import annotations

import math
import os
import re
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator
from urllib.parse import quote


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    excerpt: str  # the match with its secret part masked: a report must not leak what it found

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.excerpt}"


# Names of variables / keys that hold a secret: the secret word ends the name (db_password, API_KEY, jwt_secret;
# not token_pattern or SECRET_PATH).
SECRET_KEY_NAME = (r"[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key"
                   r"|secret[_-]?key|fernet[_-]?key)(?![A-Za-z0-9])")
# A value that is not a literal secret: empty, a reference to somewhere else, a variable's name, a path, or an
# obvious placeholder.
_NOT_LITERAL = re.compile(
    r"""^(?:
        |\$.*|\?.*|%\(.*|\{.*|<[^>]*>?|\*+|\.\.\.|x+|X+|-+|none|null|None|true|false|True|False
        |[A-Z][A-Z0-9_]*|/.*|\./.*
    )$""", re.X)
# Files where `key=value` / `key: value` without quotes is a literal (config, shell, env files); elsewhere (code)
# only a quoted value is one.
CONFIG_SUFFIXES = (".env", ".example", ".sh", ".bash", ".cfg", ".ini", ".conf", ".properties", ".yml", ".yaml",
                   ".toml", "Dockerfile", ".envrc")

RULES: list[tuple[str, re.Pattern[str]]] = [
    ("private key", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b")),
    ("AWS secret access key", re.compile(r"(?i)aws_?secret_?access_?key\W{1,4}(?P<secret>[A-Za-z0-9/+=]{40})\b")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("Slack webhook", re.compile(r"hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/(?P<secret>[A-Za-z0-9]{16,})")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("Stripe live key", re.compile(r"\b(?:sk|rk)_live_[0-9A-Za-z]{16,}\b")),
    ("JWT", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
    # scheme://user:password@host with a literal password
    ("password in a URI", re.compile(r"\b[a-z][a-z0-9+.-]{1,20}://[^\s:/@'\"]{1,64}:(?P<secret>[^\s@/'\"]{1,128})@")),
    # a compose / shell default for a secret variable: ${DB_PASSWORD:-hunter2}
    ("default for a secret variable", re.compile(rf"(?i)\$\{{{SECRET_KEY_NAME}:?-(?P<secret>[^}}]+)\}}")),
    # password = "literal", "password": "literal" (anywhere); PASSWORD=literal, password: literal (config files)
    ("secret assignment", re.compile(
        rf"""(?ix)(?P<key>\b{SECRET_KEY_NAME})["']?\s*(?P<op>:=|=|:)\s*(?P<q>["']?)(?P<secret>[^"'\s,;)}}\]]*)(?P=q)""")),
    ("IDENTIFIED BY literal", re.compile(r"(?i)\bIDENTIFIED\s+BY\s+'(?P<secret>[^'%<$][^']{5,})'")),
]
ENTROPY_RULE = "high-entropy string"
_TOKEN = re.compile(r"(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_=-]{32,}(?![A-Za-z0-9+/_=-])")
HIGH_ENTROPY = 4.5  # bits per character: a 32-character random base64 string has ~4.55, a path ~4.2
MIN_ENTROPY = 3.6

# (path pattern, rule, text in the line) -> why it is not a secret. Keep it short: every entry needs a reason.
ALLOWED: dict[tuple[str, str, str], str] = {
    ("tests/unit/test_secret_scan.py", "*", "*"):
        "the scanner's own tests plant fake secrets (built at run time) to prove it finds them",
    ("tests/secret_scan.py", "*", "*"): "the scanner's own rules and patterns, no values",
    ("tests/unit/test_dag_integrity.py", "password in a URI", "aws://a:b@"):
        "a fake S3 connection for parsing the DAGs, never used to connect",
    ("*", "password in a URI", "aws://local:local@"):
        "the local moto S3 server accepts any key: a fixed fake key, no secret (docker-compose uses MinIO's)",
    ("tests/unit/test_config_and_keys.py", "password in a URI", "*"):
        "the connection parser's tests: made-up logins (u, p/w, k:s) for a host that does not exist",
    ("tests/unit/test_alerts.py", "*", "*"):
        "the webhook parser's tests: made-up Slack-like paths (T000/B000/XXXX) and logins of example.com",
    ("tests/integration/test_alerts_webhook.py", "*", "SECRETPATH"):
        "a made-up webhook path, served by the test's own HTTP server, to prove logs never show it",
}

SKIP_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".ico", ".pdf", ".zip", ".gz", ".parquet", ".msgpack")


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_random(token: str) -> bool:
    """A generated key or password rather than a path, an id or a name: upper and lower case and digits, and
    either very high entropy or fairly high entropy with no words, dates or `__` (which paths and run ids have).
    Finds ~95% of 32-character base64url secrets; the value scan of the logs does not guess."""
    if len(token) < 20 or sum(bool(re.search(c, token)) for c in ("[a-z]", "[A-Z]", "[0-9]")) < 3:
        return False
    bits = entropy(token)
    if bits >= HIGH_ENTROPY:
        return True
    return bits >= MIN_ENTROPY and not re.search(r"[a-z]{6}|[A-Z]{6}|__|//|\d{4}-\d{2}", token)


def _mask(text: str, secret: str | None) -> str:
    if secret and len(secret) > 2:
        text = text.replace(secret, secret[:2] + "***")
    return text[:160]


def _allowed(path: str, rule: str, line: str) -> bool:
    for (pattern, allowed_rule, needle), _reason in ALLOWED.items():
        if Path(path).match(pattern) or path == pattern:
            if allowed_rule in ("*", rule) and (needle == "*" or needle in line):
                return True
    return False


def _is_literal_secret(rule: str, secret: str, path: str = "", quoted: bool = True, op: str = "=") -> bool:
    if rule == "secret assignment":
        config = path.endswith(CONFIG_SUFFIXES) or Path(path).name.startswith(".env")
        if not quoted and not (config and (op == "=" or path.endswith((".yml", ".yaml")))):
            return False  # code: an unquoted value is an expression, not a literal
        return len(secret) >= (4 if config else 6) and not _NOT_LITERAL.match(secret)
    if rule == "password in a URI":
        return not _NOT_LITERAL.match(secret) and not secret.startswith(("${", "{", "%", "*", "<"))
    if rule == "default for a secret variable":
        return bool(secret.strip())
    return True


def scan_text(path: str, text: str) -> list[Finding]:
    """The findings in one file's text (its path decides the allow-list only)."""
    found: list[Finding] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for rule, pattern in RULES:
            for m in pattern.finditer(line):
                groups = m.groupdict()
                secret = groups.get("secret")
                if secret is not None and not _is_literal_secret(rule, secret, path, bool(groups.get("q")),
                                                                 groups.get("op") or "="):
                    continue
                if not _allowed(path, rule, line):
                    found.append(Finding(path, number, rule, _mask(m.group(0), secret)))
        for m in _TOKEN.finditer(line):
            token = m.group(0)
            if looks_random(token) and not _allowed(path, ENTROPY_RULE, line):
                found.append(Finding(path, number, ENTROPY_RULE, _mask(token, token)))
    return found


def tracked_files(repo: Path) -> list[str]:
    """What git tracks, and what it would track (new files not ignored): a secret is found before it is committed."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=repo,
                         capture_output=True, check=True).stdout
    return sorted({name for name in out.decode().split("\0") if name})


def read_text(path: Path) -> str | None:
    """The file as text; None for a binary file (a NUL byte) or one that is gone."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", "replace")


def scan_repository(repo: Path, files: Iterable[str] | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for name in tracked_files(repo) if files is None else files:
        if name.lower().endswith(SKIP_SUFFIXES):
            continue
        text = read_text(repo / name)
        if text is not None:
            findings += scan_text(name, text)
    return findings


# --- actual secret values in logs ---------------------------------------------------------------------------------

def read_secret_values(credentials: Path, min_length: int = 8) -> dict[str, str]:
    """KEY=value lines of a credentials file (the local stack's .stack/credentials.env); too short to be unique = skip."""
    values = {}
    if credentials.exists():
        for line in credentials.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and len(value.strip()) >= min_length:
                values.setdefault(key.strip(), value.strip())
    return values


def walk_files(roots: Iterable[Path], exclude: Iterable[Path] = ()) -> Iterator[Path]:
    """Every file under the roots, once (roots may overlap), symlinks and `exclude` left out."""
    excluded = {p.resolve() for p in exclude}
    seen: set[Path] = set()
    for root in roots:
        if root.is_file():
            candidates: Iterable[Path] = [root.resolve()]
        elif root.is_dir():
            candidates = (Path(dirpath).resolve() / name for dirpath, _, files in os.walk(root) for name in files)
        else:
            continue
        for path in candidates:
            if path not in seen and path not in excluded and not path.is_symlink():
                seen.add(path)
                yield path


def scan_for_values(files: Iterable[Path], secrets: dict[str, str]) -> list[Finding]:
    """Every file that holds one of the secret values (as is, or URL-encoded): one finding per file and key, with
    the line; the value itself is never reported."""
    forms = {key: {value.encode(), quote(value, safe="").encode()} for key, value in secrets.items()}
    findings = []
    for path in files:
        try:
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            continue
        for key, encoded in forms.items():
            for form in encoded:
                at = data.find(form)
                if at >= 0:
                    findings.append(Finding(str(path), data.count(b"\n", 0, at) + 1, f"the value of {key}",
                                            "(value not shown)"))
                    break
    return findings
