"""Optional automatic download of MaxMind databases (GeoLite2 or GeoIP2 editions).

Enabled by [enrichment] maxmind_account_id plus a license key in the environment variable named
by maxmind_license_key_env. Every ``maxmind_update_interval`` each edition's published SHA-256
(``.../{edition}/download?suffix=tar.gz.sha256``) is compared with the one installed; when it
differs the tar.gz is downloaded (HTTP basic auth, TLS verified), its checksum checked, the .mmdb
inside validated by opening it, and only then moved over the old file (``os.replace`` in the same
directory: readers see the old or the new file, never half of one). Any failure keeps the old
database. Air-gapped sites leave the account id empty and point geoip_*_db at files.
"""
from __future__ import annotations

import hashlib
import os
import tarfile
import tempfile

from . import http
from .geoip import KIND_ASN, open_reader


class MaxMindUpdater(object):
    def __init__(self, cfg, city, asn):
        en = cfg.enrichment
        self.account_id = en.maxmind_account_id
        self.key_env = en.maxmind_license_key_env
        self.base = en.maxmind_download_url.rstrip("/")
        self.interval = en.maxmind_update_interval
        self.verify = http.verify_setting(cfg, True)
        state = cfg.collector.state_dir
        self.targets = []          # (edition, GeoDatabase)
        for edition in [e.strip() for e in en.maxmind_editions.split(",") if e.strip()]:
            geo = asn if edition.upper().endswith("ASN") else city
            if not geo.path:       # download on, no file named: keep it in the state directory
                geo.path = os.path.join(state, "geoip", edition + ".mmdb")
            self.targets.append((edition, geo))
        self.next_due = 0.0
        self.status = "not checked yet"
        self.downloads = 0

    def due(self, now):
        return now >= self.next_due

    def refresh(self, now):
        """Check every edition; returns True when a new database file was installed."""
        self.next_due = now + self.interval
        key = os.environ.get(self.key_env)
        if not key:
            self.status = "error: environment variable %s (maxmind_license_key_env) is not set" % self.key_env
            return False
        sess = http.session(self.verify)
        sess.auth = (self.account_id, key)
        changed, notes = False, []
        for edition, geo in self.targets:
            try:
                if self.update(sess, edition, geo.path, geo.kind):
                    changed = True
                    notes.append("%s updated" % edition)
                else:
                    notes.append("%s current" % edition)
            except Exception as e:
                notes.append("%s: error: %s (keeping the installed database)" % (edition, http.describe_error(e)))
        self.status = ("error: " if any("error" in n for n in notes) else "ok: ") + "; ".join(notes)
        return changed

    def update(self, sess, edition, path, kind):
        url = "%s/%s/download" % (self.base, edition)
        resp = sess.get(url, params={"suffix": "tar.gz.sha256"}, timeout=http.TIMEOUT)
        resp.raise_for_status()
        want = resp.text.split()[0].strip().lower() if resp.text.split() else ""
        if len(want) != 64 or any(c not in "0123456789abcdef" for c in want):
            raise ValueError("unexpected checksum file for %s: %r" % (edition, resp.text[:80]))
        sidecar = path + ".sha256"
        if os.path.exists(path) and _read(sidecar) == want:
            return False
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=directory, prefix=".maxmind-") as tmp:
            archive = os.path.join(tmp, edition + ".tar.gz")
            digest = hashlib.sha256()
            with sess.get(url, params={"suffix": "tar.gz"}, timeout=http.TIMEOUT, stream=True) as r:
                r.raise_for_status()
                with open(archive, "wb") as fh:
                    for chunk in r.iter_content(1 << 16):
                        digest.update(chunk)
                        fh.write(chunk)
            if digest.hexdigest() != want:
                raise ValueError("checksum mismatch for %s: got %s, published %s" % (edition, digest.hexdigest(), want))
            staged = os.path.join(tmp, edition + ".mmdb")
            _extract_mmdb(archive, edition, staged)
            try:
                open_reader(staged, KIND_ASN if kind == KIND_ASN else kind).close()
            except ValueError as e:
                raise ValueError("downloaded %s is not usable: %s" % (edition, e))
            os.replace(staged, path)
        with open(sidecar + ".tmp", "w") as fh:
            fh.write(want + "\n")
        os.replace(sidecar + ".tmp", sidecar)
        self.downloads += 1
        return True


def _extract_mmdb(archive, edition, dest):
    """Copy the one ``<edition>.mmdb`` member out (by content: no paths from the archive are used)."""
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if member.isfile() and os.path.basename(member.name) == edition + ".mmdb":
                src = tar.extractfile(member)
                with open(dest, "wb") as out:
                    while True:
                        block = src.read(1 << 16)
                        if not block:
                            return
                        out.write(block)
    raise ValueError("%s.mmdb not found in the downloaded archive" % edition)


def _read(path):
    try:
        with open(path) as fh:
            return fh.read().strip().lower()
    except OSError:
        return None


def configured_updater(cfg, city, asn):
    if not cfg.enrichment.maxmind_account_id:
        return None
    return MaxMindUpdater(cfg, city, asn)
