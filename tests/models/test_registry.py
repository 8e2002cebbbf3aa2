"""Registry behaviour: names, infos, typed errors."""

from __future__ import annotations

import pytest

from edgeseg.errors import ModelError
from edgeseg.models import ModelInfo, create_model, list_models, model_info, register_model

STUDENTS = {
    "lraspp_mobilenet_v3_large",
    "lraspp_mobilenet_v3_small",
    "deeplabv3plus_mobilenet_v3_small",
    "deeplabv3plus_mobilenet_v2",
    "liteseg_efficientnet_lite0",
    "fusedseg_s",
}
INT8_FRIENDLY = {"liteseg_efficientnet_lite0", "fusedseg_s"}
TEACHERS = {"fcn_resnet50", "deeplabv3_resnet50", "deeplabv3_mobilenet_v3_large"}


def test_expected_models_are_registered() -> None:
    assert set(list_models()) == STUDENTS | TEACHERS
    assert list_models() == sorted(list_models())
    assert set(list_models("lraspp_*")) == {
        "lraspp_mobilenet_v3_large",
        "lraspp_mobilenet_v3_small",
    }


@pytest.mark.parametrize("name", sorted(STUDENTS | TEACHERS))
def test_model_info_is_complete(name: str) -> None:
    info = model_info(name)
    assert isinstance(info, ModelInfo)
    assert info.name == name
    assert info.role == ("student" if name in STUDENTS else "teacher")
    assert info.family in {"lraspp", "deeplabv3", "fcn", "liteseg", "fusedseg"}
    assert info.description and "\n" not in info.description
    assert info.backbone_weights == (() if name == "fusedseg_s" else ("imagenet",))
    assert info.torchvision == (name in {"lraspp_mobilenet_v3_large"} | TEACHERS)
    assert info.weights == (("coco_voc",) if info.torchvision else ())
    assert info.int8_friendly == (name in INT8_FRIENDLY)


def test_unknown_model_suggests_a_name() -> None:
    with pytest.raises(ModelError) as err:
        create_model("lraspp_mobilenet_v3_larg")
    message = str(err.value)
    assert "Did you mean 'lraspp_mobilenet_v3_large'?" in message
    assert "\n" not in message
    with pytest.raises(ModelError, match="Unknown model 'nope'"):
        model_info("nope")


def test_duplicate_registration_is_an_error() -> None:
    with pytest.raises(ModelError, match="already registered"):

        @register_model(role="student", backbone="x", description="dup")
        def fcn_resnet50() -> None:  # pragma: no cover - never built
            raise AssertionError


def test_bad_options_are_typed_errors() -> None:
    with pytest.raises(ModelError, match="no auxiliary head"):
        create_model("lraspp_mobilenet_v3_small", aux_loss=True)
    with pytest.raises(ModelError, match="Bad option"):
        create_model("lraspp_mobilenet_v3_small", width=2)
    with pytest.raises(ModelError, match="num_classes"):
        create_model("lraspp_mobilenet_v3_small", num_classes=0)


def test_built_models_carry_their_info() -> None:
    model = create_model("lraspp_mobilenet_v3_small", num_classes=5)
    assert model.info == model_info("lraspp_mobilenet_v3_small")
    assert model.num_classes == 5
