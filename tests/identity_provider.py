"""A local OpenID Connect identity provider for the tests: never the internet.

:class:`LocalIdentityProvider` serves, on a free loopback port from a thread of the test
process, what a council's provider (Microsoft Entra ID and the like) publishes:

- ``GET /.well-known/openid-configuration``, the discovery document;
- ``GET /keys``, the public signing keys (JWKS) of RSA keys generated here with ``cryptography``;
- ``GET /authorize``, a sign-in page listing the test people (one button each); its form posts
  back to ``/authorize``, which redirects to the client's ``redirect_uri`` with a one-time code;
- ``POST /token``, the authorization code traded for an ID token and an access token, only
  with the PKCE verifier (S256) of the challenge the code was issued for, and the same client
  and redirect URI; answered with CORS headers, as Entra ID does for single-page applications.

It also signs tokens for the API tests directly (:meth:`LocalIdentityProvider.token`,
:meth:`LocalIdentityProvider.sign`), with its own keys or any other, and rotates its keys
(:meth:`LocalIdentityProvider.rotate`). ``key_fetches`` counts the JWKS requests served.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
"""The test council's directory id (Entra ID's ``tid``)."""
OTHER_TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
"""Another organisation's directory id."""
API_AUDIENCE = "api://wasteroute-tests"
"""The API's Application ID URI: the ``aud`` of access tokens."""
CLIENT_ID = "wasteroute-map-tests"
"""The web map's (public) client id: the ``aud`` of ID tokens."""
LIFETIME_S = 3600


def new_rsa_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA signing key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def algorithm_of(key: SigningKey) -> str:
    """The JWS algorithm a key signs with: RS256 for RSA, ES256 for P-256."""
    return "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"


def public_jwk(key: SigningKey, kid: str) -> dict[str, Any]:
    """The public JWK of ``key`` as the provider publishes it (``kid``, ``use``, ``alg``)."""
    if isinstance(key, rsa.RSAPrivateKey):
        jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", "alg": algorithm_of(key)}


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier`` (RFC 7636): base64url of its SHA-256, unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class Person:
    """Someone who can sign in at the provider: the claims their tokens carry."""

    sub: str
    name: str
    roles: list[str]
    tid: str = TENANT_ID


@dataclass
class IssuedCode:
    """An authorization code waiting to be traded: for whom, for which client, bound to which challenge."""

    person: Person
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None


@dataclass
class LocalIdentityProvider:
    """The provider's state; :meth:`start` serves it (see the module docstring)."""

    people: list[Person] = field(default_factory=list)
    redirect_uris: set[str] = field(default_factory=set)
    keys: dict[str, SigningKey] = field(default_factory=dict)
    current_kid: str = ""
    key_fetches: int = 0
    codes: dict[str, IssuedCode] = field(default_factory=dict)
    base: str = ""
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if not self.keys:
            self.rotate(keep_old=False)

    @property
    def issuer(self) -> str:
        """The issuer URL (``iss``), this server's base."""
        return self.base

    def rotate(self, *, keep_old: bool = True, elliptic: bool = False) -> str:
        """A new signing key (RSA, or P-256 when ``elliptic``), published and used from now on (the old
        ones still published when ``keep_old``); its ``kid``."""
        kid = f"key-{len(self.keys) + 1}-{secrets.token_hex(4)}"
        with self._lock:
            if not keep_old:
                self.keys.clear()
            self.keys[kid] = ec.generate_private_key(ec.SECP256R1()) if elliptic else new_rsa_key()
            self.current_kid = kid
        return kid

    def jwks(self) -> dict[str, Any]:
        """The published key set."""
        with self._lock:
            return {"keys": [public_jwk(key, kid) for kid, key in self.keys.items()]}

    def sign(self, claims: dict[str, Any], *, key: SigningKey | None = None, kid: str | None = None) -> str:
        """``claims`` signed as a JWT: by default with the current key and its ``kid``."""
        kid = kid if kid is not None else self.current_kid
        signing_key = key if key is not None else self.keys[kid]
        return jwt.encode(claims, signing_key, algorithm=algorithm_of(signing_key), headers={"kid": kid})

    def claims(self, person: Person | None = None, **overrides: Any) -> dict[str, Any]:
        """An access token's claims for ``person`` (a planner of the test council by default), as
        Entra ID issues them, with ``overrides`` laid over them (``None`` drops a claim)."""
        person = person or Person(sub="planner-sub", name="Jo Planner", roles=["Waste.Planner"])
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.issuer, "aud": API_AUDIENCE, "sub": person.sub, "tid": person.tid,
                                  "name": person.name, "roles": person.roles, "iat": now, "nbf": now,
                                  "exp": now + LIFETIME_S}
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, person: Person | None = None, **overrides: Any) -> str:
        """A signed access token of :meth:`claims`."""
        return self.sign(self.claims(person, **overrides))

    def start(self) -> None:
        """Serve on a free loopback port from a daemon thread."""
        provider = self

        class Handler(_Handler):
            idp = provider

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def discovery(self) -> dict[str, Any]:
        """The discovery document."""
        return {"issuer": self.issuer, "jwks_uri": f"{self.base}/keys",
                "authorization_endpoint": f"{self.base}/authorize", "token_endpoint": f"{self.base}/token",
                "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
                "id_token_signing_alg_values_supported": ["RS256"], "subject_types_supported": ["pairwise"]}

    def issue_code(self, person: Person, query: dict[str, str]) -> str:
        """A one-time code for ``person`` and the authorization request ``query``."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self.codes[code] = IssuedCode(person=person, client_id=query["client_id"],
                                          redirect_uri=query["redirect_uri"], challenge=query["code_challenge"],
                                          nonce=query.get("nonce"))
        return code

    def trade(self, form: dict[str, str]) -> dict[str, Any]:
        """The token endpoint's answer to ``form``; ``ValueError`` (an OAuth error code) when refused."""
        with self._lock:
            issued = self.codes.pop(form.get("code", ""), None)
        if form.get("grant_type") != "authorization_code" or issued is None:
            raise ValueError("invalid_grant")
        if form.get("client_id") != issued.client_id or form.get("redirect_uri") != issued.redirect_uri:
            raise ValueError("invalid_grant")
        if s256(form.get("code_verifier", "")) != issued.challenge:
            raise ValueError("invalid_grant")
        id_claims = self.claims(issued.person, aud=issued.client_id, nonce=issued.nonce, roles=None)
        return {"token_type": "Bearer", "expires_in": LIFETIME_S, "scope": "openid profile",
                "access_token": self.token(issued.person), "id_token": self.sign(id_claims)}


class _Handler(BaseHTTPRequestHandler):
    """The provider's HTTP endpoints (see the module docstring)."""

    idp: LocalIdentityProvider

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests' output is theirs."""

    def _answer(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
        self._answer(status, json.dumps(document).encode(), "application/json", headers)

    def _cors(self) -> dict[str, str]:
        return {"Access-Control-Allow-Origin": self.headers.get("Origin", "*"), "Vary": "Origin"}

    def do_GET(self) -> None:
        """Discovery, keys, and the sign-in page."""
        url = urlsplit(self.path)
        if url.path == "/.well-known/openid-configuration":
            self._json(200, self.idp.discovery())
        elif url.path == "/keys":
            self.idp.key_fetches += 1
            self._json(200, self.idp.jwks())
        elif url.path == "/authorize":
            self._sign_in_page({name: values[0] for name, values in parse_qs(url.query).items()})
        else:
            self._json(404, {"error": "not_found"})

    def _sign_in_page(self, query: dict[str, str]) -> None:
        """The people to sign in as, each a button posting the request back; 400 for a bad request."""
        problem = self._bad_request(query)
        if problem:
            self._answer(400, problem.encode(), "text/plain")
            return
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in query.items())
        buttons = "".join(f'<button type="submit" name="sub" value="{html.escape(p.sub)}">'
                          f"Sign in as {html.escape(p.name)}</button>" for p in self.idp.people)
        page = (f"<!doctype html><title>Local council sign-in</title><h1>Local council sign-in</h1>"
                f'<form method="post" action="/authorize">{hidden}{buttons}</form>')
        self._answer(200, page.encode(), "text/html; charset=utf-8")

    def _bad_request(self, query: dict[str, str]) -> str:
        """Why an authorization request is refused ('' when it is not)."""
        if query.get("response_type") != "code":
            return "response_type must be code"
        if query.get("client_id") != CLIENT_ID:
            return "unknown client_id"
        if query.get("redirect_uri") not in self.idp.redirect_uris:
            return "redirect_uri is not registered"
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return "PKCE with S256 is required"
        if "openid" not in query.get("scope", "").split():
            return "scope must include openid"
        return ""

    def do_POST(self) -> None:
        """The sign-in form's post, and the token endpoint."""
        length = int(self.headers.get("Content-Length", "0"))
        form = {name: values[0] for name, values in parse_qs(self.rfile.read(length).decode()).items()}
        path = urlsplit(self.path).path
        if path == "/authorize":
            person = next((p for p in self.idp.people if p.sub == form.get("sub")), None)
            if person is None or self._bad_request(form):
                self._answer(400, b"bad sign-in", "text/plain")
                return
            code = self.idp.issue_code(person, form)
            target = f"{form['redirect_uri']}?{urlencode({'code': code, 'state': form.get('state', '')})}"
            self._answer(302, b"", "text/plain", {"Location": target})
        elif path == "/token":
            try:
                self._json(200, self.idp.trade(form), {**self._cors(), "Cache-Control": "no-store"})
            except ValueError as error:
                self._json(400, {"error": str(error)}, self._cors())
        else:
            self._json(404, {"error": "not_found"})

    def do_OPTIONS(self) -> None:
        """CORS preflight of the token endpoint."""
        self._answer(204, b"", "text/plain", {**self._cors(), "Access-Control-Allow-Methods": "POST",
                                              "Access-Control-Allow-Headers": "Content-Type"})
