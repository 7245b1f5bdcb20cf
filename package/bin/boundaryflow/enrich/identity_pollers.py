"""Optional direct pollers for sign-in logs, mapping the public or VPN addresses users sign in
from to the user, for ``identity_ttl`` after each successful sign-in (a newer sign-in from the
same address wins).

- Okta System Log API: ``GET {okta_url}/api/v1/logs`` with ``Authorization: SSWS <token>``,
  events ``user.session.start`` / ``user.authentication.sso`` with outcome SUCCESS; pages follow
  the ``Link: <...>; rel="next"`` header until a page comes back empty (Okta's polling mode always
  sends a next link). Fields: ``client.ipAddress``, ``actor.alternateId``, ``published``.
- Microsoft Graph sign-in logs: client-credentials token from
  ``{entra_login_url}/{tenant}/oauth2/v2.0/token``, then ``GET {entra_graph_url}/v1.0/auditLogs/signIns``
  filtered on ``createdDateTime``; pages follow ``@odata.nextLink``. Fields: ``ipAddress``,
  ``userPrincipalName``, ``createdDateTime``; only ``status.errorCode == 0`` (success).

They run only when configured ([enrichment] okta_url, or entra_tenant_id + entra_client_id).
"""
from __future__ import annotations

import os
import time

from . import http
from .timed import TimedTable, parse_time

MAX_PAGES = 50            # per poll; the rest comes on the next poll


class SignInPoller(object):
    name = "?"

    def __init__(self, cfg):
        en = cfg.enrichment
        self.interval = en.identity_poll_interval
        self.ttl = en.identity_ttl
        self.verify = http.verify_setting(cfg, True)
        self.next_due = 0.0
        self.status = "not polled yet"
        self.table = TimedTable()
        self._signins = {}              # event id -> (ip, time, user)
        self._since = None              # newest sign-in time seen (epoch)
        self._session = None

    def due(self, now):
        return now >= self.next_due

    def refresh(self, now):
        """Poll once. Returns True when the address -> user table changed."""
        self.next_due = now + self.interval
        if self._session is None:
            self._session = http.session(self.verify)
        since = self._since if self._since is not None else now - self.ttl
        try:
            events = list(self.poll(self._session, since))
        except Exception as e:
            self.status = "error: %s" % http.describe_error(e)
            return False
        added = 0
        for event_id, ip, when, user in events:
            if ip and user and when is not None and event_id not in self._signins:
                self._signins[event_id] = (ip, when, user)
                added += 1
                self._since = when if self._since is None else max(self._since, when)
        horizon = now - 2 * self.ttl    # flows arrive late; keep two TTLs of history
        stale = [k for k, v in self._signins.items() if v[1] < horizon]
        for k in stale:
            del self._signins[k]
        self.status = "ok: %d new sign-ins, %d addresses mapped" % (added, len(
            {v[0] for v in self._signins.values()}))
        if not added and not stale:
            return False
        table = TimedTable()
        for ip, when, user in self._signins.values():
            table.add(_canonical(ip), when, when + self.ttl, user)
        self.table = table.freeze()
        return True

    def poll(self, sess, since):
        """Yield (event id, ip, epoch time, user) for successful sign-ins since ``since``."""
        raise NotImplementedError


class OktaPoller(SignInPoller):
    name = "okta"
    EVENT_TYPES = ("user.session.start", "user.authentication.sso")

    def __init__(self, cfg):
        super(OktaPoller, self).__init__(cfg)
        self.base = cfg.enrichment.okta_url.rstrip("/")
        self.token_env = cfg.enrichment.okta_token_env

    def poll(self, sess, since):
        token = os.environ.get(self.token_env)
        if not token:
            raise RuntimeError("environment variable %s (okta_token_env) is not set" % self.token_env)
        headers = {"Authorization": "SSWS " + token, "Accept": "application/json"}
        params = {"since": _iso(since), "sortOrder": "ASCENDING", "limit": "1000",
                  "filter": " or ".join('eventType eq "%s"' % t for t in self.EVENT_TYPES)}
        url = self.base + "/api/v1/logs"
        for _page in range(MAX_PAGES):
            resp = sess.get(url, headers=headers, params=params, timeout=http.TIMEOUT)
            resp.raise_for_status()
            events = resp.json()
            if not events:
                return
            for ev in events:
                if (ev.get("outcome") or {}).get("result", "SUCCESS") != "SUCCESS":
                    continue
                ip = (ev.get("client") or {}).get("ipAddress")
                user = (ev.get("actor") or {}).get("alternateId")
                yield ev.get("uuid") or (ip, ev.get("published"), user), ip, _time(ev.get("published")), user
            nxt = resp.links.get("next", {}).get("url")
            if not nxt:
                return
            url, params = nxt, None


class GraphSignInPoller(SignInPoller):
    name = "entra"

    def __init__(self, cfg):
        super(GraphSignInPoller, self).__init__(cfg)
        en = cfg.enrichment
        self.tenant = en.entra_tenant_id
        self.client_id = en.entra_client_id
        self.secret_env = en.entra_client_secret_env
        self.login = en.entra_login_url.rstrip("/")
        self.graph = en.entra_graph_url.rstrip("/")
        self._token = None
        self._token_expiry = 0.0

    def _bearer(self, sess):
        if self._token and time.time() < self._token_expiry - 60:
            return self._token
        secret = os.environ.get(self.secret_env)
        if not secret:
            raise RuntimeError("environment variable %s (entra_client_secret_env) is not set" % self.secret_env)
        resp = sess.post("%s/%s/oauth2/v2.0/token" % (self.login, self.tenant), timeout=http.TIMEOUT, data={
            "grant_type": "client_credentials", "client_id": self.client_id, "client_secret": secret,
            "scope": self.graph + "/.default"})
        resp.raise_for_status()
        body = resp.json()
        self._token = body["access_token"]
        self._token_expiry = time.time() + float(body.get("expires_in", 3600))
        return self._token

    def poll(self, sess, since):
        headers = {"Authorization": "Bearer " + self._bearer(sess), "Accept": "application/json"}
        url = self.graph + "/v1.0/auditLogs/signIns"
        params = {"$filter": "createdDateTime ge %s" % _iso(since), "$top": "999"}
        for _page in range(MAX_PAGES):
            resp = sess.get(url, headers=headers, params=params, timeout=http.TIMEOUT)
            resp.raise_for_status()
            body = resp.json()
            for ev in body.get("value") or ():
                if (ev.get("status") or {}).get("errorCode", 0) != 0:
                    continue
                yield (ev.get("id") or (ev.get("ipAddress"), ev.get("createdDateTime")), ev.get("ipAddress"),
                       _time(ev.get("createdDateTime")), ev.get("userPrincipalName"))
            url, params = body.get("@odata.nextLink"), None
            if not url:
                return


def configured_pollers(cfg):
    en = cfg.enrichment
    out = []
    if en.okta_url:
        out.append(OktaPoller(cfg))
    if en.entra_tenant_id and en.entra_client_id:
        out.append(GraphSignInPoller(cfg))
    return out


def _iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + ".%03dZ" % int((epoch % 1) * 1000)


def _time(text):
    try:
        return parse_time(text)
    except (ValueError, TypeError):
        return None


def _canonical(ip):
    import ipaddress
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return ip
