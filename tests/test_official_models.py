"""Every field of the official SDKs' answer models is kept on ours, in both generations.

The Java and .NET SDKs declare a class per answer; their fields were read from the
repositories named with each list below (newest commit stored, given) and are
recorded here, so the test needs no network. Each list is compared with the wire
names our model reads (``_wire.py``, ``barocert/_wire.py``): a field the service
answers and an official SDK keeps must not be dropped by this one. The official
Python SDKs, installed, define no answer models: they pass every field through,
which the last test checks.
"""

from __future__ import annotations

from typing import Any

import pytest

import kakaocert_async as ka
from kakaocert_async import _wire
from kakaocert_async import barocert as bc

# KakaoCert 2.x ---------------------------------------------------------------------
# linkhub-sdk/kakaocert.sdk.java @ 01c933894329c899a613d958a2cbabd2c66fac7a (Java)
# linkhub-sdk/kakaocert.dotnet.core @ ee3d8940af7e9ee46a131228f050e7b1e0dbac9c (.NET)


def _fields(names: str) -> list[str]:
    return names.split()


_RESULT = _fields(
    "receiptID regDT state expires_in callCenterNum callCenterName allowSimpleRegistYN"
    " verifyNameYN payload requestDT expireDT clientCode clientName tmstitle tmsmessage"
    " subClientName subClientCode viewDT completeDT verifyDT"
)
KAKAOCERT: list[tuple[type[Any], str, list[str]]] = [
    # src/main/java/com/kakaocert/api/esign/ResultESign.java; ResultESign.cs
    (ka.ESignStatus, "Java ResultESign, .NET ResultESign", [*_RESULT, "appUseYN", "tx_id"]),
    # src/main/java/com/kakaocert/api/verifyauth/ResultVerifyAuth.java; ResultVerifyAuth.cs
    (ka.VerifyAuthStatus, "Java ResultVerifyAuth, .NET ResultVerifyAuth", _RESULT),
    # src/main/java/com/kakaocert/api/cms/ResultCMS.java; ResultCMS.cs
    (ka.CMSStatus, "Java ResultCMS, .NET ResultCMS", [*_RESULT, "appUseYN", "tx_id"]),
    # src/main/java/com/kakaocert/api/ResponseESign.java; KakaocertService.cs ResponseESignRequest
    (ka.ESignReceipt, "Java ResponseESign, .NET ResponseESignRequest", ["receiptId", "tx_id"]),
    # src/main/java/com/kakaocert/api/ResponseCMS.java; KakaocertService.cs ResponseCMSRequest
    (ka.CMSReceipt, "Java ResponseCMS, .NET ResponseCMSRequest", ["receiptId", "tx_id"]),
    # KakaocertService.cs ReceiptIDResponse (requestVerifyAuth)
    (ka.VerifyAuthReceipt, ".NET ReceiptIDResponse", ["receiptId"]),
    # src/main/java/com/kakaocert/api/VerifyResult.java; ResponseVerify.cs
    *(
        (cls, "Java VerifyResult, .NET ResponseVerify", ["receiptId", "signedData"])
        for cls in (ka.ESignVerification, ka.VerifyAuthVerification, ka.CMSVerification)
    ),
]

# Barocert (Kakao) --------------------------------------------------------------------
# barocert/barocert.sdk.java @ 27ea13f19815f261b92590675f48237e4d30ec4f (Java), under
#   src/main/java/com/barocert/kakaocert/{identity,sign,cms,login}/
# barocert/barocert.dotnet.core @ 2bad1b962d550195a079afb3276e3b433e795432 (.NET), under
#   kakaocert/ (every public field, [Obsolete] ones included)

_STATUS = _fields(
    "receiptID clientCode state expireIn callCenterName callCenterNum reqTitle authCategory"
    " returnURL tokenType requestDT viewDT completeDT expireDT verifyDT scheme appUseYN"
)
_VERIFIED = _fields(
    "state ci receiverName receiverYear receiverDay receiverHP receiverGender"
    " receiverForeign receiverTelcoType"
)
BAROCERT: list[tuple[type[Any], str, list[str]]] = [
    (bc.Status, "Java/.NET IdentityStatus, MultiSignStatus, CMSStatus; .NET SignStatus", _STATUS),
    # sign/SignStatus.java has signTitle (commit "카카오 signTitle, extraMessage 추가")
    (bc.Status, "Java SignStatus", [*_STATUS, "signTitle"]),
    (
        bc.Receipt,
        "Java/.NET IdentityReceipt, SignReceipt, MultiSignReceipt, CMSReceipt",
        [
            "receiptID",
            "scheme",
        ],
    ),
    (
        bc.Verification,
        "Java/.NET IdentityResult, SignResult, CMSResult",
        [
            "receiptID",
            "signedData",
            *_VERIFIED,
        ],
    ),
    (
        bc.MultiSignVerification,
        "Java/.NET MultiSignResult",
        [
            "receiptID",
            "multiSignedData",
            *_VERIFIED,
        ],
    ),
    (bc.LoginVerification, "Java/.NET LoginResult", ["txID", "signedData", *_VERIFIED]),
]


@pytest.mark.parametrize(
    ("ours", "official", "fields"),
    KAKAOCERT + BAROCERT,
    ids=[f"{cls.__name__}-{official}" for cls, official, _ in KAKAOCERT + BAROCERT],
)
def test_no_field_of_an_official_model_is_dropped(
    ours: type[Any], official: str, fields: list[str]
) -> None:
    read = set(_wire.wire_names(ours).values())
    assert [field for field in fields if field not in read] == [], official


def test_the_names_are_read_from_the_wire() -> None:
    # The wire names on the fields are what the converter reads: an answer with every official
    # field set is read into every one of our fields.
    answer = {"receiptID": "1" * 32, "state": 1, "signTitle": "계약서", "reqTitle": "요청"}
    status = _wire.structure(answer, bc.Status)
    assert (status.sign_title, status.req_title) == ("계약서", "요청")
    esign = {"receiptID": "1", "state": 1, "callCenterName": "고객센터"}
    assert _wire.structure(esign, ka.ESignStatus).call_center_name == "고객센터"
    cms = {"receiptID": "1", "state": 1, "tx_id": "tx-1"}
    assert _wire.structure(cms, ka.CMSStatus).tx_id == "tx-1"


def test_the_official_python_sdks_pass_every_field_through() -> None:
    # No model to compare: whatever the service answers reaches the caller.
    kakaocert = pytest.importorskip("kakaocert.kakaocertService")
    barocert = pytest.importorskip("barocert.base")
    for utils in (kakaocert.Utils, barocert.Utils):
        answer = utils.json2obj(b'{"receiptID": "1", "signTitle": "t", "unheardOf": 7}')
        assert (answer.signTitle, answer.unheardOf) == ("t", 7)
