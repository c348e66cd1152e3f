"""python-fido2 as a real CTAP client of `fauxkey ctap --socket`.

Usage: ctap_fido2.py SOCKET SCENARIO [SCENARIO...]

Each scenario opens its own CTAPHID connection (a new INIT, a new channel), drives fauxkey
through python-fido2's own classes, asserts, and prints `ok: <scenario>`. Any failure raises,
so the exit status is non-zero. Scenarios run in the order given and share the authenticator.
"""

import hashlib
import os
import socket
import sys
import threading

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.attestation import AttestationType, FidoU2FAttestation
from fido2.cose import ES256 as CoseES256, CoseKey
from fido2.ctap1 import APDU, ApduError, Ctap1
from fido2.ctap import CtapError
import dataclasses

from fido2 import cbor
from fido2.ctap2 import ClientPin, Config, Ctap2, CredentialManagement, Info
from fido2.ctap2.pin import PinProtocolV1, PinProtocolV2
from fido2.hid import CAPABILITY, CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor
from fido2.client import DefaultClientDataCollector, Fido2Client, UserInteraction
from fido2.server import Fido2Server
from fido2.utils import websafe_decode
from fido2.webauthn import (
    AttestedCredentialData,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

RP = {"id": "example.com", "name": "Example"}
ES256 = [{"type": "public-key", "alg": -7}]


class SocketConnection(CtapHidConnection):
    """64-byte reports over a Unix stream socket, nothing else on the wire."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)

    def read_packet(self):
        buf = b""
        while len(buf) < 64:
            chunk = self.sock.recv(64 - len(buf))
            if not chunk:
                raise OSError("fauxkey closed the socket")
            buf += chunk
        return buf

    def write_packet(self, data):
        assert len(data) == 64, len(data)
        self.sock.sendall(data)

    def close(self):
        self.sock.close()


def open_device(path):
    descriptor = HidDescriptor(path, 0, 0, 64, 64, "fauxkey", None)
    return CtapHidDevice(descriptor, SocketConnection(path))


def cdh(label):
    return hashlib.sha256(label.encode()).digest()


def expect_error(code, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except CtapError as e:
        assert e.code == code, f"expected {code!r}, got {e.code!r}"
        return
    raise AssertionError(f"expected CtapError {code!r}, call succeeded")


def make(ctap, user_id, name, rk=True, rp=RP):
    opts = {"rk": True} if rk else None
    att = ctap.make_credential(
        cdh("mc-" + name), rp, {"id": user_id, "name": name, "displayName": name.title()},
        ES256, options=opts,
    )
    assert att.fmt in ("none", "packed"), att.fmt  # as the profile says
    cred = att.auth_data.credential_data
    assert cred is not None
    assert att.auth_data.rp_id_hash == hashlib.sha256(rp["id"].encode()).digest()
    assert att.auth_data.is_user_present()
    return cred


# ---- scenarios ----

def s_transport(path):
    dev = open_device(path)
    assert dev.version == 2
    assert CAPABILITY.CBOR.supported(dev.capabilities)
    assert CAPABILITY.NMSG.supported(dev.capabilities)
    assert CAPABILITY.WINK.supported(dev.capabilities)
    big = os.urandom(3000)
    assert dev.ping(big) == big
    assert dev.ping(b"") == b""
    dev.wink()
    # A second connection-level device gets a different channel.
    dev2 = CtapHidDevice(dev.descriptor, dev._connection)
    assert dev2._channel_id != dev._channel_id
    assert dev.ping(b"one") == b"one" and dev2.ping(b"two") == b"two"
    dev.close()


def s_get_info(path):
    ctap = Ctap2(open_device(path))
    info = ctap.get_info()
    assert "FIDO_2_0" in info.versions and "FIDO_2_1" in info.versions, info.versions
    assert info.aaguid == bytes.fromhex("a317723608614496 8ac0b5d4308ac6e2".replace(" ", "")), info.aaguid
    for opt in ("rk", "up", "uv", "pinUvAuthToken", "credMgmt", "credentialMgmtPreview",
                "authnrCfg", "setMinPINLength"):
        assert info.options.get(opt) is True, (opt, info.options)
    # A PIN is supported, and none is set.
    assert info.options.get("clientPin") is False, info.options
    assert info.min_pin_length == 4 and info.force_pin_change is False, info
    assert info.options.get("plat") is False
    assert info.max_msg_size == 7609
    assert info.pin_uv_protocols == [2, 1]
    assert set(info.extensions) == {
        "credBlob", "credProtect", "hmac-secret", "hmac-secret-mc", "largeBlobKey", "minPinLength",
    }, info.extensions
    assert {a["alg"] for a in info.algorithms} >= {-7}
    assert info.transports == ["usb"], info.transports  # served over CTAPHID


def s_make_get(path):
    ctap = Ctap2(open_device(path))
    cred = make(ctap, b"user-mg", "mg-user", rk=False, rp={"id": "mg.example", "name": "MG"})
    # With an allow list.
    a = ctap.get_assertion(
        "mg.example", cdh("ga-1"),
        allow_list=[{"type": "public-key", "id": cred.credential_id}],
    )
    a.verify(cdh("ga-1"), cred.public_key)
    assert a.auth_data.is_user_present()
    assert a.auth_data.counter == 1
    # With uv: the UV flag is set and the signature still verifies.
    b = ctap.get_assertion(
        "mg.example", cdh("ga-2"),
        allow_list=[{"type": "public-key", "id": cred.credential_id}], options={"uv": True},
    )
    b.verify(cdh("ga-2"), cred.public_key)
    assert b.auth_data.is_user_verified()
    assert b.auth_data.counter == 2
    # A non-discoverable credential is not found without an allow list.
    expect_error(CtapError.ERR.NO_CREDENTIALS, ctap.get_assertion, "mg.example", cdh("ga-3"))
    # Excluded.
    expect_error(
        CtapError.ERR.CREDENTIAL_EXCLUDED, ctap.make_credential, cdh("mc-x"),
        {"id": "mg.example"}, {"id": b"other"}, ES256,
        exclude_list=[{"type": "public-key", "id": cred.credential_id}],
    )
    # Unsupported algorithm only.
    expect_error(
        CtapError.ERR.UNSUPPORTED_ALGORITHM, ctap.make_credential, cdh("mc-y"),
        {"id": "mg.example"}, {"id": b"other"}, [{"type": "public-key", "alg": -999}],
    )


def s_discoverable(path):
    ctap = Ctap2(open_device(path))
    rp = {"id": "multi.example", "name": "Multi"}
    creds = {}
    for i in range(3):
        c = make(ctap, b"multi-%d" % i, "user%d" % i, rp=rp)
        creds[c.credential_id] = c
    first = ctap.get_assertion("multi.example", cdh("ga-multi"))
    assert first.number_of_credentials == 3, first.number_of_credentials
    seen = [first]
    for _ in range(2):
        seen.append(ctap.get_next_assertion())
    ids = [s.credential["id"] for s in seen]
    assert sorted(ids) == sorted(creds), "each credential exactly once"
    for s in seen:
        s.verify(cdh("ga-multi"), creds[s.credential["id"]].public_key)
        assert s.user["id"] in (b"multi-0", b"multi-1", b"multi-2")
    expect_error(CtapError.ERR.NOT_ALLOWED, ctap.get_next_assertion)
    # get_assertions (python-fido2's helper) collects the same three.
    assert len(ctap.get_assertions("multi.example", cdh("again"))) == 3


def cm_token(ctap, protocol=None):
    pin = ClientPin(ctap, protocol)
    token = pin.get_uv_token(ClientPin.PERMISSION.CREDENTIAL_MGMT)
    return CredentialManagement(ctap, pin.protocol, token)


def s_credman(path):
    ctap = Ctap2(open_device(path))
    rp = {"id": "cm.example", "name": "CM"}
    a = make(ctap, b"cm-a", "alice", rp=rp)
    b = make(ctap, b"cm-b", "bob", rp=rp)
    cm = cm_token(ctap)
    meta = cm.get_metadata()
    total = meta[CredentialManagement.RESULT.EXISTING_CRED_COUNT]
    assert total >= 2, meta
    assert CredentialManagement.RESULT.MAX_REMAINING_COUNT in meta
    rps = cm.enumerate_rps()
    rp_ids = [r[CredentialManagement.RESULT.RP]["id"] for r in rps]
    assert "cm.example" in rp_ids, rp_ids
    assert len(rp_ids) == len(set(rp_ids))
    for r in rps:
        assert r[CredentialManagement.RESULT.RP_ID_HASH] == hashlib.sha256(
            r[CredentialManagement.RESULT.RP]["id"].encode()).digest()
    rp_hash = hashlib.sha256(b"cm.example").digest()
    creds = cm.enumerate_creds(rp_hash)
    by_id = {c[CredentialManagement.RESULT.CREDENTIAL_ID]["id"]: c for c in creds}
    assert set(by_id) == {a.credential_id, b.credential_id}, by_id.keys()
    got = by_id[a.credential_id]
    assert got[CredentialManagement.RESULT.USER]["id"] == b"cm-a"
    assert got[CredentialManagement.RESULT.USER]["name"] == "alice"
    assert got[CredentialManagement.RESULT.PUBLIC_KEY] == a.public_key
    assert got[CredentialManagement.RESULT.CRED_PROTECT] == 1
    # Update bob's user information, then check both the listing and an assertion.
    cm.update_user_info(
        {"type": "public-key", "id": b.credential_id},
        {"id": b"cm-b", "name": "robert", "displayName": "Robert"},
    )
    creds = cm.enumerate_creds(rp_hash)
    names = {c[CredentialManagement.RESULT.USER]["name"] for c in creds}
    assert names == {"alice", "robert"}, names
    # Delete alice: she is gone from listings and from assertions.
    cm.delete_cred({"type": "public-key", "id": a.credential_id})
    creds = cm.enumerate_creds(rp_hash)
    assert [c[CredentialManagement.RESULT.CREDENTIAL_ID]["id"] for c in creds] == [b.credential_id]
    expect_error(
        CtapError.ERR.NO_CREDENTIALS, cm.delete_cred,
        {"type": "public-key", "id": a.credential_id},
    )
    left = ctap.get_assertion("cm.example", cdh("after-delete"), options={"uv": True})
    assert left.credential["id"] == b.credential_id
    assert left.user["name"] == "robert", left.user
    assert left.number_of_credentials in (None, 1)
    # Unknown RP: NO_CREDENTIALS on the wire, which python-fido2 turns into an empty list.
    expect_error(
        CtapError.ERR.NO_CREDENTIALS, cm.enumerate_creds_begin,
        hashlib.sha256(b"none.example").digest(),
    )
    assert cm.enumerate_creds(hashlib.sha256(b"none.example").digest()) == []
    assert cm.get_metadata()[CredentialManagement.RESULT.EXISTING_CRED_COUNT] == total - 1
    # Protocol one works too.
    cm1 = cm_token(ctap, ClientPin.PROTOCOLS[1]())
    assert cm1.get_metadata()[CredentialManagement.RESULT.EXISTING_CRED_COUNT] == total - 1
    # A token with the wrong permission is refused.
    pin = ClientPin(ctap)
    ga_token = pin.get_uv_token(ClientPin.PERMISSION.GET_ASSERTION, "cm.example")
    bad = CredentialManagement(ctap, pin.protocol, ga_token)
    expect_error(CtapError.ERR.PIN_AUTH_INVALID, bad.get_metadata)
    # A forged token is refused.
    forged = CredentialManagement(ctap, pin.protocol, os.urandom(32))
    expect_error(CtapError.ERR.PIN_AUTH_INVALID, forged.get_metadata)


def s_selection(path):
    ctap = Ctap2(open_device(path))
    ctap.selection()


def s_cancel(path):
    # Run with --presence-delay-ms: the touch never comes before we cancel.
    ctap = Ctap2(open_device(path))
    event = threading.Event()
    statuses = []

    def on_keepalive(status):
        statuses.append(status)
        event.set()

    expect_error(
        CtapError.ERR.KEEPALIVE_CANCEL, ctap.make_credential, cdh("cancel"),
        {"id": "cancel.example"}, {"id": b"c"}, ES256,
        event=event, on_keepalive=on_keepalive,
    )
    assert statuses == [2], statuses  # STATUS.UPNEEDED
    # Nothing was created, and the device answers the next request.
    expect_error(CtapError.ERR.NO_CREDENTIALS, ctap.get_assertion, "cancel.example", cdh("x"))


def s_slow_touch(path):
    # Run with --presence-delay-ms: keepalives arrive, then the request completes.
    ctap = Ctap2(open_device(path))
    statuses = []
    make_resp = ctap.make_credential(
        cdh("slow"), {"id": "slow.example"}, {"id": b"s"}, ES256,
        on_keepalive=statuses.append,
    )
    assert make_resp.auth_data.is_user_present()
    assert statuses == [2], statuses


def s_deny(path):
    # Run with --deny-presence.
    ctap = Ctap2(open_device(path))
    expect_error(
        CtapError.ERR.OPERATION_DENIED, ctap.make_credential, cdh("deny"),
        {"id": "deny.example"}, {"id": b"d"}, ES256,
    )
    expect_error(CtapError.ERR.OPERATION_DENIED, ctap.selection)
    expect_error(CtapError.ERR.OPERATION_DENIED, ctap.reset)


def s_reset(path):
    ctap = Ctap2(open_device(path))
    make(ctap, b"r", "reset-me", rp={"id": "reset.example", "name": "R"})
    ctap.reset()
    expect_error(CtapError.ERR.NO_CREDENTIALS, ctap.get_assertion, "reset.example", cdh("r"))
    cm = cm_token(ctap)
    assert cm.get_metadata()[CredentialManagement.RESULT.EXISTING_CRED_COUNT] == 0
    assert cm.enumerate_rps() == []


class Approve(UserInteraction):
    def __init__(self):
        self.uv_requests = 0

    def prompt_up(self):
        pass

    def request_pin(self, permissions, rp_id):
        raise AssertionError("fauxkey has no PIN; the client must not ask for one")

    def request_uv(self, permissions, rp_id):
        self.uv_requests += 1
        return True


def s_client(path):
    dev = open_device(path)
    ui = Approve()
    client = Fido2Client(dev, DefaultClientDataCollector("https://client.example"), ui)
    server = Fido2Server(PublicKeyCredentialRpEntity(name="Client Example", id="client.example"))
    user = PublicKeyCredentialUserEntity(id=b"client-user", name="carol", display_name="Carol")
    for uv in (UserVerificationRequirement.REQUIRED, UserVerificationRequirement.DISCOURAGED):
        create_options, state = server.register_begin(
            user, resident_key_requirement=ResidentKeyRequirement.REQUIRED, user_verification=uv,
        )
        reg = client.make_credential(create_options.public_key)
        auth_data = server.register_complete(state, reg)
        cred = auth_data.credential_data
        assert auth_data.is_user_present()
        # python-fido2 verifies the user for every registration on a UV-capable key (fauxkey
        # does not announce makeCredUvNotRqd), through a pinUvAuthToken with the mc permission.
        assert auth_data.is_user_verified()
        # Log in with the allow list, then discoverably.
        for creds in ([cred], None):
            request_options, state = server.authenticate_begin(creds, user_verification=uv)
            selection = client.get_assertion(request_options.public_key)
            result = selection.get_response(0)
            got = server.authenticate_complete(state, [cred], result)
            assert got.credential_id == cred.credential_id
            assert result.response.user_handle == b"client-user"
            flags = result.response.authenticator_data.flags
            assert bool(flags & 0x04) == (uv == UserVerificationRequirement.REQUIRED), flags
    assert ui.uv_requests >= 2, ui.uv_requests


def s_prf(path):
    # WebAuthn prf over CTAP hmac-secret: python-fido2 does the key agreement, encrypts the
    # salts and decrypts the outputs (PIN/UV auth protocol 2).
    client = Fido2Client(
        open_device(path), DefaultClientDataCollector("https://prf.example"), Approve()
    )
    server = Fido2Server(PublicKeyCredentialRpEntity(name="PRF", id="prf.example"))
    user = PublicKeyCredentialUserEntity(id=b"prf-user", name="pat", display_name="Pat")
    create_options, state = server.register_begin(
        user, resident_key_requirement=ResidentKeyRequirement.REQUIRED,
        user_verification=UserVerificationRequirement.REQUIRED, extensions={"prf": {}},
    )
    reg = client.make_credential(create_options.public_key)
    assert reg.client_extension_results["prf"]["enabled"] is True, reg.client_extension_results
    cred = server.register_complete(state, reg).credential_data

    def evaluate(first, second=None):
        salts = {"first": first} if second is None else {"first": first, "second": second}
        request_options, state = server.authenticate_begin(
            [cred], user_verification=UserVerificationRequirement.REQUIRED,
            extensions={"prf": {"eval": salts}},
        )
        result = client.get_assertion(request_options.public_key).get_response(0)
        server.authenticate_complete(state, [cred], result)
        results = result.client_extension_results["prf"]["results"]
        # The client outputs are in their JSON form: base64url.
        return {k: websafe_decode(v) for k, v in results.items() if k in salts}

    a = evaluate(b"salt one")
    assert len(a["first"]) == 32 and set(a) == {"first"}, a
    again = evaluate(b"salt one", b"salt two")
    assert again["first"] == a["first"], "the same salt gives the same output"
    assert again["second"] != a["first"] and len(again["second"]) == 32


def s_no_uv(path):
    # Run with --no-uv: no built-in UV. A PIN could be set (clientPin false), so tokens and
    # credential management exist, but not through built-in UV.
    dev = open_device(path)
    ctap = Ctap2(dev)
    info = ctap.get_info()
    assert "FIDO_2_1" in info.versions, info.versions
    assert "uv" not in info.options, info.options
    assert info.options.get("clientPin") is False, info.options
    # Asked for a token through UV anyway (python-fido2 itself would not), fauxkey says
    # NOT_ALLOWED.
    key_agreement, _ = ClientPin(ctap)._get_shared_secret()
    expect_error(
        CtapError.ERR.NOT_ALLOWED, ctap.client_pin, 2, ClientPin.CMD.GET_TOKEN_USING_UV,
        key_agreement=key_agreement, permissions=ClientPin.PERMISSION.CREDENTIAL_MGMT,
    )
    # The high-level client registers and logs in without UV when the RP allows it …
    client = Fido2Client(dev, DefaultClientDataCollector("https://nouv.example"), Approve())
    server = Fido2Server(PublicKeyCredentialRpEntity(name="No UV", id="nouv.example"))
    user = PublicKeyCredentialUserEntity(id=b"nouv", name="nu", display_name="No UV")
    options, state = server.register_begin(
        user, user_verification=UserVerificationRequirement.DISCOURAGED)
    auth_data = server.register_complete(state, client.make_credential(options.public_key))
    assert not auth_data.is_user_verified()
    request, state = server.authenticate_begin(
        [auth_data.credential_data], user_verification=UserVerificationRequirement.DISCOURAGED)
    result = client.get_assertion(request.public_key).get_response(0)
    server.authenticate_complete(state, [auth_data.credential_data], result)
    # … and refuses when it requires UV.
    options, state = server.register_begin(
        user, user_verification=UserVerificationRequirement.REQUIRED)
    try:
        client.make_credential(options.public_key)
    except Exception as e:  # python-fido2's ClientError(CONFIGURATION_UNSUPPORTED)
        assert "CONFIGURATION_UNSUPPORTED" in repr(e), repr(e)
    else:
        raise AssertionError("UV required on an authenticator without UV must fail")


def s_two_clients(path):
    # Two hosts connected at once (run with --presence-delay-ms): they get different channels,
    # see the same credentials, and one waits (CHANNEL_BUSY, retried by python-fido2) while the
    # other's request waits for the touch.
    a, b = open_device(path), open_device(path)
    assert a._channel_id != b._channel_id
    ca, cb = Ctap2(a), Ctap2(b)
    cred = make(ca, b"two", "two", rp={"id": "two.example", "name": "Two"})
    got = cb.get_assertion("two.example", cdh("two"))
    got.verify(cdh("two"), cred.public_key)
    done = []
    worker = threading.Thread(target=lambda: done.append(
        make(ca, b"two-b", "two-b", rp={"id": "two.example", "name": "Two"})))
    worker.start()
    # While a's makeCredential waits for the touch, b's requests are refused as busy, then run.
    assert b.ping(b"b") == b"b"
    worker.join()
    assert len(done) == 1
    assert len(cb.get_assertions("two.example", cdh("both"))) in (1, 2)
    a.close()
    assert b.ping(b"still here") == b"still here"


# ---- a PIN-only key (run with --no-uv over a vault; the daemon is restarted in between) ----

PIN = "24681357"
PIN_RP = {"id": "pin.example", "name": "PIN Example"}


def retries(ctap):
    return ClientPin(ctap).get_pin_retries()


def s_pin_setup(path):
    ctap = Ctap2(open_device(path))
    assert ctap.info.options.get("clientPin") is False, ctap.info.options
    assert ClientPin.is_supported(ctap.info) and ClientPin.is_token_supported(ctap.info)
    assert retries(ctap) == (8, False), retries(ctap)
    # setPIN with protocol 1, changePIN with protocol 2.
    ClientPin(ctap, PinProtocolV1()).set_pin("1234")
    assert ctap.get_info().options["clientPin"] is True
    expect_error(CtapError.ERR.NOT_ALLOWED, ClientPin(ctap).set_pin, "5678")
    expect_error(CtapError.ERR.PIN_INVALID, ClientPin(ctap).change_pin, "0000", PIN)
    assert retries(ctap) == (7, False)
    ClientPin(ctap, PinProtocolV2()).change_pin("1234", PIN)
    assert retries(ctap) == (8, False)
    # With a PIN and no token, makeCredential is refused (no makeCredUvNotRqd).
    assert "makeCredUvNotRqd" not in ctap.info.options
    expect_error(CtapError.ERR.PUAT_REQUIRED, make, ctap, b"p0", "p0", False, PIN_RP)


def s_pin_wrong3(path):
    # Up to three wrong PINs: the third in a row asks for a power cycle, the last one blocks.
    ctap = Ctap2(open_device(path))
    left, _ = retries(ctap)
    for i in range(min(3, left)):
        left -= 1
        code = (CtapError.ERR.PIN_BLOCKED if left == 0 else
                CtapError.ERR.PIN_AUTH_BLOCKED if i == 2 else CtapError.ERR.PIN_INVALID)
        expect_error(code, ClientPin(ctap).get_pin_token, "00000000")
        assert retries(ctap)[0] == left
    if left:
        assert retries(ctap) == (left, True), retries(ctap)
        # Until the power cycle even the right PIN is refused, and costs nothing.
        expect_error(CtapError.ERR.PIN_AUTH_BLOCKED, ClientPin(ctap).get_pin_token, PIN)
        assert retries(ctap) == (left, True)


def s_pin_after_restart(path):
    # The daemon restarted (a power cycle): the spent retries stayed in the vault.
    ctap = Ctap2(open_device(path))
    assert retries(ctap) == (5, False), retries(ctap)
    client_pin = ClientPin(ctap)
    P = ClientPin.PERMISSION
    token = client_pin.get_pin_token(PIN, P.MAKE_CREDENTIAL, PIN_RP["id"])
    assert retries(ctap) == (8, False)
    proto = client_pin.protocol
    att = ctap.make_credential(
        cdh("pin-mc"), PIN_RP, {"id": b"pin-user", "name": "pat"}, ES256, options={"rk": True},
        pin_uv_param=proto.authenticate(token, cdh("pin-mc")), pin_uv_protocol=proto.VERSION)
    assert att.auth_data.is_user_verified()
    # The token lost mc with that use.
    expect_error(
        CtapError.ERR.PIN_AUTH_INVALID, ctap.make_credential, cdh("pin-mc2"), PIN_RP,
        {"id": b"pin-user2", "name": "pat2"}, ES256, options={"rk": True},
        pin_uv_param=proto.authenticate(token, cdh("pin-mc2")), pin_uv_protocol=proto.VERSION)
    # A token bound to another RP is refused here.
    other = client_pin.get_pin_token(PIN, P.GET_ASSERTION, "other.example")
    expect_error(
        CtapError.ERR.PIN_AUTH_INVALID, ctap.get_assertion, PIN_RP["id"], cdh("ga"),
        pin_uv_param=proto.authenticate(other, cdh("ga")), pin_uv_protocol=proto.VERSION)
    # Bio enrollment is not a permission fauxkey grants.
    expect_error(CtapError.ERR.UNAUTHORIZED_PERMISSION, client_pin.get_pin_token, PIN, P.BIO_ENROLL)
    # Credential management under the preview command 0x41, as a client that knows only
    # credentialMgmtPreview (libfido2 1.12) sends it.
    assert ctap.info.options.get("credentialMgmtPreview") is True
    assert "FIDO_2_1_PRE" in ctap.info.versions
    cm_token = client_pin.get_pin_token(PIN, P.CREDENTIAL_MGMT)
    preview = Ctap2(ctap.device)
    options = {k: v for k, v in preview.info.options.items() if k != "credMgmt"}
    preview._info = dataclasses.replace(preview.info, options=options)
    sent = []
    original = preview.send_cbor
    preview.send_cbor = lambda cmd, *a, **kw: (sent.append(cmd), original(cmd, *a, **kw))[1]
    cm = CredentialManagement(preview, proto, cm_token)
    assert cm.get_metadata()[CredentialManagement.RESULT.EXISTING_CRED_COUNT] == 1
    rps = cm.enumerate_rps()
    assert [rp[CredentialManagement.RESULT.RP]["id"] for rp in rps] == ["pin.example"]
    assert set(sent) == {0x41}, sent
    # authenticatorConfig: a token with acfg.
    cfg = Config(ctap, proto, client_pin.get_pin_token(PIN, P.AUTHENTICATOR_CFG))
    cfg.set_min_pin_length(min_pin_length=6, rp_ids=["pin.example"])
    info = ctap.get_info()
    assert info.min_pin_length == 6 and info.force_pin_change is False, info
    cfg.toggle_always_uv()
    assert ctap.get_info().options["alwaysUv"] is True
    expect_error(CtapError.ERR.PUAT_REQUIRED, make, ctap, b"p1", "p1", False, PIN_RP)
    cfg.toggle_always_uv()
    assert ctap.get_info().options["alwaysUv"] is False
    # Without acfg, config is refused.
    no_acfg = Config(ctap, proto, client_pin.get_pin_token(PIN, P.CREDENTIAL_MGMT))
    expect_error(CtapError.ERR.PIN_AUTH_INVALID, no_acfg.toggle_always_uv)
    # The minimum PIN length now refuses a 5-character PIN.
    expect_error(CtapError.ERR.PIN_POLICY_VIOLATION, client_pin.change_pin, PIN, "12345")


class PinUser(UserInteraction):
    def __init__(self):
        self.pin_requests = 0

    def prompt_up(self):
        pass

    def request_pin(self, permissions, rp_id):
        self.pin_requests += 1
        return PIN

    def request_uv(self, permissions, rp_id):
        raise AssertionError("a PIN-only key has no built-in UV")


def s_pin_client(path):
    # python-fido2's own client registers and logs in with the PIN; its server verifies both.
    dev = open_device(path)
    ui = PinUser()
    client = Fido2Client(dev, DefaultClientDataCollector("https://pin.example"), ui)
    server = Fido2Server(PublicKeyCredentialRpEntity(name="PIN Example", id="pin.example"))
    user = PublicKeyCredentialUserEntity(id=b"pin-client", name="pia", display_name="Pia")
    options, state = server.register_begin(
        user, resident_key_requirement=ResidentKeyRequirement.REQUIRED,
        user_verification=UserVerificationRequirement.REQUIRED)
    auth_data = server.register_complete(state, client.make_credential(options.public_key))
    assert auth_data.is_user_verified()
    cred = auth_data.credential_data
    for creds in ([cred], None):
        request, state = server.authenticate_begin(
            creds, user_verification=UserVerificationRequirement.REQUIRED)
        result = client.get_assertion(request.public_key).get_response(0)
        server.authenticate_complete(state, [cred], result)
        assert result.response.authenticator_data.flags & 0x04
    assert ui.pin_requests >= 3, ui.pin_requests


def s_pin_blocked(path):
    ctap = Ctap2(open_device(path))
    assert retries(ctap)[0] == 0
    expect_error(CtapError.ERR.PIN_BLOCKED, ClientPin(ctap).get_pin_token, PIN)
    expect_error(CtapError.ERR.PIN_BLOCKED, ClientPin(ctap).change_pin, PIN, "87654321")
    # Only a reset helps: the PIN and the minimum PIN length are gone.
    ctap.reset()
    info = ctap.get_info()
    assert info.options["clientPin"] is False and info.min_pin_length == 4, info
    assert retries(ctap) == (8, False)


def s_large_blobs(path):
    # authenticatorLargeBlobs through python-fido2's LargeBlobs: the initial array reads as
    # empty; a write needs a token with lbw; Fido2Client's largeBlob extension round-trips a
    # blob through a credential's largeBlobKey, verified by Fido2Server.
    from fido2.ctap2.blob import LargeBlobs

    ctap = Ctap2(open_device(path))
    info = ctap.info
    assert info.options.get("largeBlobs") is True, info.options
    assert info.max_large_blob == 4096, info.max_large_blob
    assert LargeBlobs(ctap).read_blob_array() == []
    key = os.urandom(32)
    expect_error(CtapError.ERR.PUAT_REQUIRED, LargeBlobs(ctap).put_blob, key, b"no token")
    client_pin = ClientPin(ctap)
    P = ClientPin.PERMISSION
    no_lbw = client_pin.get_uv_token(P.CREDENTIAL_MGMT)
    expect_error(
        CtapError.ERR.PIN_AUTH_INVALID,
        LargeBlobs(ctap, client_pin.protocol, no_lbw).put_blob, key, b"wrong permission")
    token = client_pin.get_uv_token(P.LARGE_BLOB_WRITE)
    LargeBlobs(ctap, client_pin.protocol, token).put_blob(key, b"written by LargeBlobs")
    assert LargeBlobs(ctap).get_blob(key) == b"written by LargeBlobs"
    assert len(LargeBlobs(ctap).read_blob_array()) == 1

    client = Fido2Client(
        open_device(path), DefaultClientDataCollector("https://blob.example"), Approve()
    )
    server = Fido2Server(PublicKeyCredentialRpEntity(name="Blob", id="blob.example"))
    user = PublicKeyCredentialUserEntity(id=b"blob-user", name="bo", display_name="Bo")
    create_options, state = server.register_begin(
        user, resident_key_requirement=ResidentKeyRequirement.REQUIRED,
        user_verification=UserVerificationRequirement.REQUIRED,
        extensions={"largeBlob": {"support": "required"}},
    )
    reg = client.make_credential(create_options.public_key)
    assert reg.client_extension_results["largeBlob"]["supported"] is True, reg
    cred = server.register_complete(state, reg).credential_data

    def login(extensions):
        request, state = server.authenticate_begin(
            [cred], user_verification=UserVerificationRequirement.REQUIRED,
            extensions=extensions)
        result = client.get_assertion(request.public_key).get_response(0)
        server.authenticate_complete(state, [cred], result)
        return result.client_extension_results["largeBlob"]

    blob = b"a large blob, " * 40
    assert login({"largeBlob": {"write": blob}})["written"] is True
    got = login({"largeBlob": {"read": True}})
    assert websafe_decode(got["blob"]) == blob, got
    # Both entries are in the one array, each opening only with its own key.
    assert len(LargeBlobs(ctap).read_blob_array()) == 2
    assert LargeBlobs(ctap).get_blob(key) == b"written by LargeBlobs"


def s_cred_blob_min_pin_prf_mc(path):
    # credBlob, minPinLength and PRF evaluated at registration (hmac-secret-mc) through
    # Fido2Client, verified by Fido2Server; the PRF output at create equals the one at login.
    ctap = Ctap2(open_device(path))
    info = ctap.info
    assert {"credBlob", "hmac-secret-mc", "largeBlobKey", "minPinLength"} <= set(
        info.extensions), info.extensions
    assert info.max_cred_blob_length == 32, info.max_cred_blob_length
    assert "FIDO_2_2" not in info.versions and "FIDO_2_3" not in info.versions
    client_pin = ClientPin(ctap)
    cfg = Config(ctap, client_pin.protocol,
                 client_pin.get_uv_token(ClientPin.PERMISSION.AUTHENTICATOR_CFG))
    cfg.set_min_pin_length(rp_ids=["ext.example"])

    client = Fido2Client(
        open_device(path), DefaultClientDataCollector("https://ext.example"), Approve()
    )
    server = Fido2Server(PublicKeyCredentialRpEntity(name="Ext", id="ext.example"))
    user = PublicKeyCredentialUserEntity(id=b"ext-user", name="ed", display_name="Ed")
    create_options, state = server.register_begin(
        user, resident_key_requirement=ResidentKeyRequirement.REQUIRED,
        user_verification=UserVerificationRequirement.REQUIRED,
        extensions={"credBlob": b"cred blob bytes", "minPinLength": True,
                    "prf": {"eval": {"first": b"salt one"}}},
    )
    reg = client.make_credential(create_options.public_key)
    prf = reg.client_extension_results["prf"]
    assert prf["enabled"] is True, prf
    at_create = websafe_decode(prf["results"]["first"])
    assert len(at_create) == 32
    auth_data = server.register_complete(state, reg)
    assert auth_data.extensions["credBlob"] is True, auth_data.extensions
    assert auth_data.extensions["minPinLength"] == 4, auth_data.extensions
    cred = auth_data.credential_data

    request, state = server.authenticate_begin(
        [cred], user_verification=UserVerificationRequirement.REQUIRED,
        extensions={"getCredBlob": True, "prf": {"eval": {"first": b"salt one"}}})
    result = client.get_assertion(request.public_key).get_response(0)
    server.authenticate_complete(state, [cred], result)
    assert result.response.authenticator_data.extensions["credBlob"] == b"cred blob bytes"
    later = websafe_decode(result.client_extension_results["prf"]["results"]["first"])
    assert later == at_create, "hmac-secret-mc and hmac-secret agree"


# ---- CTAP1/U2F (issue 16) ----

def expect_apdu(code, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ApduError as e:
        assert e.code == code, f"expected SW {code:#06x}, got {e.code:#06x}"
        return
    raise AssertionError(f"expected SW {code:#06x}, call succeeded")


def u2f_round_trip(dev):
    """Register and authenticate with python-fido2's Ctap1; returns (app, registration)."""
    ctap1 = Ctap1(dev)
    assert ctap1.get_version() == "U2F_V2"
    app, chal = cdh("u2f.example"), cdh("u2f-register")
    reg = ctap1.register(chal, app)
    reg.verify(app, chal)  # the attestation signature, by the certificate's key
    cert = x509.load_der_x509_certificate(reg.certificate)
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert len(reg.public_key) == 65 and reg.public_key[0] == 0x04
    # check-only: a known handle is "conditions not satisfied", an unknown one "wrong data".
    expect_apdu(APDU.USE_NOT_SATISFIED, ctap1.authenticate, chal, app, reg.key_handle, check_only=True)
    expect_apdu(APDU.WRONG_DATA, ctap1.authenticate, chal, app, b"\x01" * 32, check_only=True)
    expect_apdu(APDU.WRONG_DATA, ctap1.authenticate, chal, cdh("other.example"), reg.key_handle)
    counters = []
    for i in range(2):
        c = cdh(f"u2f-auth-{i}")
        sig = ctap1.authenticate(c, app, reg.key_handle)
        sig.verify(app, c, reg.public_key)
        assert sig.user_presence & 1, sig.user_presence
        counters.append(sig.counter)
    assert counters[1] == counters[0] + 1, counters
    # Raw APDUs: class, instruction and length errors.
    expect_apdu(0x6E00, ctap1.send_apdu, cla=0x80, ins=0x03)
    expect_apdu(0x6D00, ctap1.send_apdu, ins=0x40)
    expect_apdu(0x6700, ctap1.send_apdu, ins=0x01, data=b"\x00" * 63)
    return app, reg


def s_u2f_also(path):
    """yubikey-5: CTAP2 and U2F; a U2F key handle logs in over CTAP2 too."""
    dev = open_device(path)
    assert CAPABILITY.CBOR.supported(dev.capabilities)
    assert not CAPABILITY.NMSG.supported(dev.capabilities)
    ctap = Ctap2(dev)
    assert ctap.get_info().versions[0] == "U2F_V2", ctap.get_info().versions
    app, reg = u2f_round_trip(dev)
    # rpIdHash = appParam: the U2F registration is found by getAssertion for "u2f.example".
    c = cdh("ctap2-over-u2f")
    got = ctap.get_assertion(
        "u2f.example", c, allow_list=[{"type": "public-key", "id": reg.key_handle}]
    )
    assert got.credential["id"] == reg.key_handle
    assert got.auth_data.rp_id_hash == app
    CoseES256.from_ctap1(reg.public_key).verify(bytes(got.auth_data) + c, got.signature)
    # And a CTAP2 credential answers U2F authenticate for SHA-256(rpId).
    made = make(ctap, b"user-u2f", "u2f-user", rk=False, rp={"id": "both.example", "name": "B"})
    ctap1 = Ctap1(dev)
    c = cdh("u2f-over-ctap2")
    sig = ctap1.authenticate(c, cdh("both.example"), made.credential_id)
    sig.verify(cdh("both.example"), c, b"\x04" + made.public_key[-2] + made.public_key[-3])


def documented_get_info(name):
    """A real device's getInfo response (status byte, CBOR) from tests/data/getinfo/."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "data", "getinfo", name)) as f:
        hex_text = "".join(line.strip() for line in f if not line.startswith("#"))
    raw = bytes.fromhex(hex_text)
    assert raw[0] == 0x00, raw[0]
    return Info.from_dict(cbor.decode(raw[1:]))


def s_yubikey_info(path):
    """yubikey-5: getInfo is the YubiKey 5 (firmware 5.4.3) one, field by field."""
    dev = open_device(path)
    ctap = Ctap2(dev)
    info = ctap.get_info()
    real = documented_get_info("yubikey-5-fw5.4.3.hex")
    for field in ("versions", "extensions", "aaguid", "max_msg_size", "pin_uv_protocols",
                  "max_creds_in_list", "max_cred_id_length", "algorithms", "max_large_blob",
                  "force_pin_change", "min_pin_length", "firmware_version",
                  "max_cred_blob_length", "max_rpids_for_min_pin", "remaining_disc_creds"):
        assert getattr(info, field) == getattr(real, field), (
            field, getattr(info, field), getattr(real, field))
    assert info.firmware_version == 0x050403
    # Served over CTAPHID, fauxkey reports usb only (the device also lists nfc).
    assert real.transports == ["nfc", "usb"] and info.transports == ["usb"], info.transports
    # Options: the same names; `uv` only because the emulated user has built-in UV (a profile
    # deviation); clientPin follows the PIN state (the dump's key had a PIN).
    assert info.options.pop("uv") is True, info.options
    assert info.options["clientPin"] is False
    ClientPin(ctap, PinProtocolV2()).set_pin(PIN)
    info = ctap.get_info()
    assert info.options.pop("uv") is True, info.options
    assert info.options == real.options, (info.options, real.options)
    # No pinUvAuthToken: python-fido2 takes getPinToken's token, and credential management
    # goes through the preview command (0x41), as on the device.
    assert not ClientPin.is_token_supported(info)
    pin = ClientPin(ctap, PinProtocolV2())
    token = pin.get_pin_token(PIN)
    cm = CredentialManagement(ctap, pin.protocol, token)
    assert cm.get_metadata()[CredentialManagement.RESULT.EXISTING_CRED_COUNT] == 0
    # maxMsgSize 1200 holds: a longer CTAP2 request is refused (CTAP2_ERR_REQUEST_TOO_LARGE);
    # CTAPHID itself still carries it.
    assert dev.call(0x10, b"\x04" + b"\x00" * 1200) == bytes([0x39])
    assert dev.call(0x10, b"\x04" + b"\x00" * 1199) != bytes([0x39])


def s_u2f_only(path):
    """u2f-key: U2F only; CTAPHID_CBOR is not spoken."""
    dev = open_device(path)
    assert not CAPABILITY.CBOR.supported(dev.capabilities)
    assert not CAPABILITY.NMSG.supported(dev.capabilities)
    expect_error(CtapError.ERR.INVALID_COMMAND, dev.call, 0x10, b"\x04")
    u2f_round_trip(dev)


def s_u2f_client(path):
    """Fido2Client falls back to U2F on a key without CBOR; Fido2Server checks fido-u2f."""
    dev = open_device(path)
    client = Fido2Client(dev, DefaultClientDataCollector("https://u2f.example"), Approve())

    def verify_attestation(attestation_object, client_data_hash):
        assert attestation_object.fmt == "fido-u2f", attestation_object.fmt
        result = FidoU2FAttestation().verify(
            attestation_object.att_stmt, attestation_object.auth_data, client_data_hash
        )
        assert result.attestation_type == AttestationType.BASIC, result

    server = Fido2Server(
        PublicKeyCredentialRpEntity(name="U2F Example", id="u2f.example"),
        attestation="direct",
        verify_attestation=verify_attestation,
    )
    user = PublicKeyCredentialUserEntity(id=b"u2f-user", name="dave", display_name="Dave")
    create_options, state = server.register_begin(
        user,
        resident_key_requirement=ResidentKeyRequirement.DISCOURAGED,
        user_verification=UserVerificationRequirement.DISCOURAGED,
    )
    reg = client.make_credential(create_options.public_key)
    auth_data = server.register_complete(state, reg)
    cred = auth_data.credential_data
    assert cred.aaguid == b"\x00" * 16, cred.aaguid
    assert cred.public_key[3] == -7
    request_options, state = server.authenticate_begin(
        [cred], user_verification=UserVerificationRequirement.DISCOURAGED
    )
    result = client.get_assertion(request_options.public_key).get_response(0)
    got = server.authenticate_complete(state, [cred], result)
    assert got.credential_id == cred.credential_id
    assert result.response.authenticator_data.counter == 1


SCENARIOS = {name[2:]: fn for name, fn in globals().items() if name.startswith("s_")}


def main():
    path, names = sys.argv[1], sys.argv[2:]
    for name in names:
        SCENARIOS[name](path)
        print("ok:", name, flush=True)


if __name__ == "__main__":
    main()
