"""redis-py's TLS and credential keywords, translated into the config schema's ``[tls]`` and
``[auth]`` keys.

=====================================  =================================================
redis-py keyword                       shardis config
=====================================  =================================================
``ssl=True`` / ``ssl=False``           ``tls.enabled`` (a ``tls`` table or a ``rediss://``
                                       URL also turns TLS on)
``ssl_ca_certs``                       ``tls.ca_file``
``ssl_certfile``, ``ssl_keyfile``      ``tls.cert_file``, ``tls.key_file``; without
                                       ``ssl_keyfile`` the key is read from
                                       ``ssl_certfile`` too (as ``ssl.load_cert_chain``)
``ssl_cert_reqs``                      ``"required"`` / ``ssl.CERT_REQUIRED`` and
                                       ``"optional"`` / ``ssl.CERT_OPTIONAL`` verify
                                       (Python's ``ssl`` treats OPTIONAL like REQUIRED on a
                                       client); ``"none"`` / ``ssl.CERT_NONE`` / ``None``
                                       set ``tls.insecure_skip_verify = true``
``ssl_check_hostname``                 ``True``: nothing to do (names are checked).
                                       ``False`` is only accepted with
                                       ``ssl_cert_reqs="none"``: rustls verifies the
                                       certificate and its name together and cannot skip
                                       only the name (use ``tls={"server_name": …}`` to
                                       check against another name)
``username``, ``password``             ``auth.username``, ``auth.password``
=====================================  =================================================

The other ``ssl_*`` keywords of redis-py (``ssl_password``, ``ssl_ca_path``,
``ssl_ca_data``, ``ssl_ciphers``, ``ssl_min_version``, ``ssl_validate_ocsp``…) are refused
with a :class:`~shardis.ConfigError` unless they hold redis-py's default value (``None``,
``False`` for the OCSP switches), which asks for nothing. TLS keywords while TLS is off
(redis-py ignores them then) are refused too, as are a keyword and the config (a ``tls`` /
``auth`` table or the URL) giving the same setting different values. Error messages never
show a password.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, MutableMapping, Optional, Tuple
from urllib.parse import parse_qsl, quote, quote_plus, unquote

from .exceptions import ConfigError

__all__ = ["UNSET", "Translated", "translate", "merge_into_spec", "merge_into_url", "TLS_SCHEMES"]


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


#: "Not given" (``ssl_cert_reqs=None`` means CERT_NONE in redis-py, so None cannot be it).
UNSET: Any = _Unset()

TLS_SCHEMES = ("rediss", "rediss+cluster", "valkeys", "valkeys+cluster")

# redis-py keywords shardis does not implement, with what to do instead. Their redis-py
# default value asks for nothing and is accepted.
_UNSUPPORTED: Dict[str, Tuple[Any, str]] = {
    "ssl_password": (None, "encrypted private keys are not supported: give an unencrypted ssl_keyfile"),
    "ssl_ca_path": (None, "a directory of CA files is not supported: give one PEM file as ssl_ca_certs"),
    "ssl_ca_data": (None, "in-memory CA data is not supported: write it to a PEM file and give ssl_ca_certs"),
    "ssl_ciphers": (None, "cipher suites are rustls' safe defaults and cannot be chosen"),
    "ssl_min_version": (None, "TLS 1.2 and 1.3 are used (rustls' safe defaults); the version cannot be chosen"),
    "ssl_validate_ocsp": (False, "OCSP validation is not supported"),
    "ssl_validate_ocsp_stapled": (False, "OCSP validation is not supported"),
    "ssl_ocsp_context": (None, "OCSP validation is not supported"),
    "ssl_ocsp_expected_cert": (None, "OCSP validation is not supported"),
    "ssl_include_verify_flags": (None, "OpenSSL verify flags do not apply (shardis uses rustls)"),
    "ssl_exclude_verify_flags": (None, "OpenSSL verify flags do not apply (shardis uses rustls)"),
}

_SUPPORTED = (
    "ssl",
    "ssl_ca_certs",
    "ssl_certfile",
    "ssl_keyfile",
    "ssl_cert_reqs",
    "ssl_check_hostname",
    "username",
    "password",
)

_CERT_REQS = {"none": 0, "optional": 1, "required": 2}  # ssl.CERT_NONE/OPTIONAL/REQUIRED


class Translated:
    """The ``[tls]`` and ``[auth]`` fields the keywords set, and which keyword set each."""

    def __init__(self) -> None:
        self.enabled: Optional[bool] = None
        self.tls: Dict[str, Any] = {}
        self.auth: Dict[str, str] = {}
        # "tls.ca_file" → "ssl_ca_certs" (for error messages)
        self.origin: Dict[str, str] = {}
        self.check_hostname_off = False

    def empty(self) -> bool:
        return self.enabled is None and not self.tls and not self.auth and not self.check_hostname_off

    def needs_tls(self) -> Optional[str]:
        """The first keyword that only makes sense with TLS on."""
        for field in self.tls:
            return self.origin[f"tls.{field}"]
        return "ssl_check_hostname" if self.check_hostname_off else None


def _type_name(value: Any) -> str:
    return type(value).__name__


def _path(keyword: str, value: Any) -> str:
    if isinstance(value, (str, bytes, os.PathLike)):
        path = os.fsdecode(os.fspath(value))
        if path:
            return path
        raise ConfigError(f"invalid config: {keyword}: an empty path")
    raise ConfigError(f"invalid config: {keyword}: expected a file path (str or os.PathLike), got {_type_name(value)}")


def _text(keyword: str, value: Any) -> str:
    # The value is a credential: the message shows its type, never the value.
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"invalid config: {keyword}: bytes that are not UTF-8") from None
    raise ConfigError(f"invalid config: {keyword}: expected str, got {_type_name(value)}")


def _flag(keyword: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ConfigError(f"invalid config: {keyword}: expected True or False, got {_type_name(value)}")


def _verify(value: Any) -> bool:
    """``ssl_cert_reqs`` → verify the server's certificate?"""
    if value is None:
        return False
    if isinstance(value, str):
        level = _CERT_REQS.get(value.lower())
    elif isinstance(value, int) and not isinstance(value, bool):
        level = value if value in (0, 1, 2) else None  # ssl.VerifyMode is an IntEnum
    else:
        raise ConfigError(
            "invalid config: ssl_cert_reqs: expected 'none', 'optional', 'required', an "
            f"ssl.VerifyMode or None, got {_type_name(value)}"
        )
    if level is None:
        raise ConfigError(
            f"invalid config: ssl_cert_reqs: {value!r} is not 'none', 'optional', 'required' "
            "or an ssl.VerifyMode"
        )
    return level != 0


def translate(keywords: Mapping[str, Any], config: MutableMapping[str, Any]) -> Translated:
    """Check and translate the redis-py keywords (``UNSET`` = not given). Unsupported
    ``ssl_*`` keywords are taken out of ``config`` (the remaining config keys) here: refused,
    or dropped when they hold redis-py's default."""
    for name in [k for k in config if k.startswith("ssl")]:
        if name in _UNSUPPORTED:
            default, why = _UNSUPPORTED[name]
            if config.pop(name) is default:
                continue
            raise ConfigError(f"invalid config: {name}: redis-py's keyword is not supported by shardis: {why}")
        raise ConfigError(
            f"invalid config: {name}: not a TLS keyword shardis knows (redis-py's supported ones: "
            f"{', '.join(_SUPPORTED[:6])}; or the tls= table: enabled, ca_file, cert_file, "
            "key_file, server_name, insecure_skip_verify)"
        )

    t = Translated()
    ssl = keywords.get("ssl", UNSET)
    if ssl is not UNSET and ssl is not None:
        t.enabled = _flag("ssl", ssl)

    def put(field: str, value: Any, keyword: str) -> None:
        t.tls[field] = value
        t.origin[f"tls.{field}"] = keyword

    ca = keywords.get("ssl_ca_certs", UNSET)
    if ca is not UNSET and ca is not None:
        put("ca_file", _path("ssl_ca_certs", ca), "ssl_ca_certs")
    cert = keywords.get("ssl_certfile", UNSET)
    key = keywords.get("ssl_keyfile", UNSET)
    cert = None if cert is UNSET else cert
    key = None if key is UNSET else key
    if cert is not None:
        cert_path = _path("ssl_certfile", cert)
        put("cert_file", cert_path, "ssl_certfile")
        if key is None:
            # ssl.load_cert_chain(certfile): the key is in the certificate file.
            put("key_file", cert_path, "ssl_certfile")
    if key is not None:
        if cert is None:
            raise ConfigError("invalid config: ssl_keyfile: given without ssl_certfile (the certificate it belongs to)")
        put("key_file", _path("ssl_keyfile", key), "ssl_keyfile")
    reqs = keywords.get("ssl_cert_reqs", UNSET)
    if reqs is not UNSET:
        put("insecure_skip_verify", not _verify(reqs), "ssl_cert_reqs")
    check = keywords.get("ssl_check_hostname", UNSET)
    if check is not UNSET and check is not None:
        t.check_hostname_off = not _flag("ssl_check_hostname", check)

    for name in ("username", "password"):
        value = keywords.get(name, UNSET)
        if value is not UNSET and value is not None:
            t.auth[name] = _text(name, value)
            t.origin[f"auth.{name}"] = name
    return t


def _tls_off_error(keyword: str) -> ConfigError:
    return ConfigError(
        f"invalid config: {keyword}: TLS is off (redis-py would ignore it; shardis refuses): "
        "pass ssl=True, a tls= table or a rediss:// URL"
    )


def _conflict(key: str, keyword: str, where: str) -> ConfigError:
    # No values: one of them may be a password.
    return ConfigError(f"invalid config: {key}: given twice with different values, as {keyword}= and {where}")


def _check_hostname(t: Translated, insecure: bool) -> None:
    if t.check_hostname_off and not insecure:
        raise ConfigError(
            "invalid config: ssl_check_hostname: False is not supported while certificates are "
            "verified: rustls checks the certificate and its name together and cannot skip only "
            "the name. Use ssl_cert_reqs='none' to skip all verification (test set-ups only), or "
            "tls={'server_name': '<a name the certificate holds>'} to check another name"
        )


def merge_into_spec(spec: Dict[str, Any], t: Translated) -> None:
    """Merge the keywords into a config dict (``mode=``, ``nodes=``… and ``tls=``/``auth=``)."""
    if t.enabled is not None or t.tls or t.check_hostname_off:
        table = spec.get("tls")
        if table is not None and not isinstance(table, Mapping):
            raise ConfigError(f"invalid config: tls: expected a dict of [tls] keys, got {_type_name(table)}")
        # A tls table turns TLS on unless it says enabled = false.
        table_on = table is not None and table.get("enabled", True) is not False
        if t.enabled is True and table is not None and not table_on:
            raise _conflict("tls.enabled", "ssl", "in tls=")
        if t.enabled is False and table_on:
            raise _conflict("tls.enabled", "ssl", "by the tls= table (TLS on)")
        if t.enabled is True or table_on:
            merged = dict(table or {})
            for field, value in t.tls.items():
                if field in merged and merged[field] != value:
                    raise _conflict(f"tls.{field}", t.origin[f"tls.{field}"], "in tls=")
                merged[field] = value
            _check_hostname(t, merged.get("insecure_skip_verify") is True)
            spec["tls"] = merged
        else:
            keyword = t.needs_tls()
            if keyword is not None:
                raise _tls_off_error(keyword)
    if t.auth:
        auth = spec.get("auth")
        if auth is not None and not isinstance(auth, Mapping):
            raise ConfigError(f"invalid config: auth: expected a dict of [auth] keys, got {_type_name(auth)}")
        auth = dict(auth or {})
        if "password" in t.auth and auth.get("password_file") is not None:
            raise ConfigError(
                "invalid config: auth.password_file: the password is given twice, as password= "
                "and as auth.password_file: keep one"
            )
        for field, value in t.auth.items():
            if field in auth and auth[field] != value:
                raise _conflict(f"auth.{field}", field, "in auth=")
            auth[field] = value
        spec["auth"] = auth


_DURATION_KEYS = ("timeout", "connect_timeout", "tcp_keepalive")


def _query_value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and key in _DURATION_KEYS:
        return f"{value}s"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ConfigError(
        f"invalid config: {key}: a {_type_name(value)} cannot be combined with a URL: put it in "
        "the URL, or build the client from config keys (mode=, nodes=…)"
    )


def merge_into_url(url: str, t: Translated, config: Mapping[str, Any]) -> str:
    """The URL with the keywords (and any other config keys given as keywords) added: TLS
    keys and config keys as query parameters, credentials as the user-info part."""
    if t.empty() and not config:
        return url
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError("invalid config: url: expected scheme://hosts (e.g. redis://127.0.0.1:6379)")
    url_tls = scheme.lower() in TLS_SCHEMES
    if t.enabled is True and not url_tls:
        raise ConfigError(f"invalid config: ssl: ssl=True with a plaintext {scheme}:// URL: use rediss:// (or valkeys://)")
    if t.enabled is False and url_tls:
        raise ConfigError(f"invalid config: ssl: ssl=False with a TLS {scheme}:// URL: use redis:// for plaintext")
    if not url_tls:
        keyword = t.needs_tls()
        if keyword is not None:
            raise _tls_off_error(keyword)
    before_query, _, query = rest.partition("?")
    authority, slash, path = before_query.partition("/")
    existing = {k: v for k, v in parse_qsl(query, keep_blank_values=True)}

    added: List[Tuple[str, str]] = []

    def add(key: str, value: str, keyword: str) -> None:
        if key in existing:
            if existing[key] != value:
                raise _conflict(key, keyword, "in the URL")
            return
        added.append((key, value))
        existing[key] = value

    for field, value in t.tls.items():
        add(f"tls.{field}", _query_value(f"tls.{field}", value), t.origin[f"tls.{field}"])

    auth_keywords: Dict[str, Tuple[str, str]] = {k: (v, k) for k, v in t.auth.items()}
    for key, value in config.items():
        if key in ("auth", "tls") and isinstance(value, Mapping):
            for field, v in value.items():
                if key == "auth":
                    if field == "password_file":
                        raise ConfigError(
                            "invalid config: auth.password_file: cannot be combined with a URL "
                            "(a URL carries its credentials itself): build the client from "
                            "config keys (mode=, nodes=, auth={'password_file': …})"
                        )
                    if field not in ("username", "password"):
                        raise ConfigError(f"invalid config: auth.{field}: unknown field `{field}` of auth")
                    text = _text(f"auth.{field}", v)
                    if field in auth_keywords and auth_keywords[field][0] != text:
                        raise _conflict(f"auth.{field}", field, "in auth=")
                    auth_keywords[field] = (text, "auth")
                else:
                    if not url_tls:
                        raise _tls_off_error(f"tls.{field}")
                    add(f"tls.{field}", _query_value(f"tls.{field}", v), "tls")
        elif isinstance(value, Mapping):
            for field, v in value.items():
                add(f"{key}.{field}", _query_value(f"{key}.{field}", v), key)
        else:
            add(key, _query_value(key, value), key)
    _check_hostname(t, existing.get("tls.insecure_skip_verify") == "true")

    if auth_keywords:
        userinfo, at, hosts = authority.rpartition("@")
        if not at:
            userinfo, hosts = "", authority
        url_user, colon, url_pass = userinfo.partition(":")
        parts = {"username": url_user, "password": url_pass if colon else None}
        for field, (value, keyword) in auth_keywords.items():
            current = parts[field]
            if current:
                # Compared decoded; the URL's own spelling is kept (the core decodes it).
                if unquote(current) != value:
                    raise _conflict(f"auth.{field}", keyword, "in the URL")
            else:
                parts[field] = quote(value, safe="")
        userinfo = parts["username"] or ""
        if parts["password"] is not None:
            userinfo += ":" + parts["password"]
        authority = f"{userinfo}@{hosts}"

    extra = "&".join(f"{quote_plus(k, safe='.')}={quote_plus(v)}" for k, v in added)
    query = "&".join(p for p in (query, extra) if p)
    return f"{scheme}://{authority}{slash}{path}{'?' if query else ''}{query}"
