"""Distillation losses: known values on small tensors; gradients reach only the student (and the
loss's own adapters); pixels outside the mask change nothing. Every registered loss is covered."""

from __future__ import annotations

import math

import pytest
import torch

from edgeseg.distill.losses import DistillInputs, LossContext, build_losses, loss_names
from edgeseg.distill.losses.affinity import affinity_logits
from edgeseg.distill.losses.fsi import reciprocal_selection
from edgeseg.distill.teachers import TeacherOutput
from edgeseg.errors import DistillError

N, C, H, W, FEAT = 2, 3, 8, 8, 4
KL_3_1 = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)  # KL([.75, .25] ‖ [.5, .5])


def context(**kw) -> LossContext:
    base = dict(
        num_classes=C,
        student_channels={"high": FEAT, "out": C},
        teacher_channels={"high": FEAT + 2},
        background=frozenset({0}),
    )
    base.update(kw)
    return LossContext(**base)


def one(spec: str, **kw):
    return build_losses([spec], context(**kw))[spec.split(":")[0]]


def inputs(student=None, teacher=None, target=None, mask=None, feats=None, tfeats=None):
    gen = torch.Generator().manual_seed(0)
    student = student if student is not None else torch.randn(N, C, H, W, generator=gen)
    teacher = teacher if teacher is not None else torch.randn(N, C, H, W, generator=gen)
    target = target if target is not None else torch.randint(0, C, (N, H, W), generator=gen)
    mask = mask if mask is not None else torch.ones(N, H, W, dtype=torch.bool)
    feats = feats if feats is not None else torch.randn(N, FEAT, H, W, generator=gen)
    tfeats = tfeats if tfeats is not None else torch.randn(N, FEAT + 2, H, W, generator=gen)
    out = TeacherOutput(teacher, mask.clone(), {"high": tfeats})
    return DistillInputs({"out": student, "high": feats}, out, target, mask)


@pytest.mark.parametrize("name", loss_names())
def test_gradients_reach_the_student_never_the_teacher(name) -> None:
    loss = one(name)
    x = inputs()
    x.student = {k: v.clone().requires_grad_(True) for k, v in x.student.items()}
    x.teacher.logits.requires_grad_(True)
    x.teacher.features["high"].requires_grad_(True)
    value = loss(x)
    assert value.ndim == 0 and torch.isfinite(value)
    value.backward()
    grads = [v.grad for v in x.student.values() if v.grad is not None]
    assert grads and all(g.abs().sum() > 0 for g in grads)
    assert x.teacher.logits.grad is None and x.teacher.features["high"].grad is None


@pytest.mark.parametrize("name", loss_names())
def test_masked_pixels_do_not_contribute(name) -> None:
    """Left half masked out (target 255 there too): changing anything there changes nothing."""
    mask = torch.ones(N, H, W, dtype=torch.bool)
    mask[..., : W // 2] = False
    base = inputs(mask=mask)
    base.target[~mask] = 255
    loss = one(name).eval()
    before = loss(base)
    noisy = inputs(mask=mask, target=base.target)
    changed = inputs(
        student=torch.where(mask[:, None], base.student["out"], noisy.student["out"] * 5),
        teacher=torch.where(mask[:, None], base.teacher.logits, -noisy.teacher.logits),
        target=base.target,
        mask=mask,
        feats=torch.where(mask[:, None], base.student["high"], noisy.student["high"] * 3),
        tfeats=torch.where(
            mask[:, None], base.teacher.features["high"], -noisy.teacher.features["high"]
        ),
    )
    torch.testing.assert_close(loss(changed), before)


def test_response_kd_known_value_and_zero_at_the_teacher() -> None:
    t = torch.zeros(1, 2, 1, 1)
    t[0, 0] = math.log(3.0)
    s = torch.zeros(1, 2, 1, 1)
    x = inputs(
        student=s,
        teacher=t,
        target=torch.zeros(1, 1, 1, dtype=torch.long),
        mask=torch.ones(1, 1, 1, dtype=torch.bool),
    )
    assert one("kd:temperature=1")(x).item() == pytest.approx(KL_3_1, rel=1e-5)
    t4 = one("kd")  # T = 4 softens the target and multiplies by T²
    p = torch.tensor([3.0**0.25, 1.0]) / (3.0**0.25 + 1.0)
    expected = 16 * float((p * (p / 0.5).log()).sum())
    assert t4(x).item() == pytest.approx(expected, rel=1e-4)
    assert one("kd")(inputs(student=t.clone(), teacher=t, target=x.target, mask=x.mask)) == 0
    assert one("kd").params.weight == 0.9 and one("kd").params.temperature == 4.0


def test_class_weighted_kd_is_the_class_weighted_mean_of_pixel_kl() -> None:
    """Two pixels, classes 0 and 1, weights 1 and 3: KL of pixel 1 counts three times."""
    t = torch.zeros(1, 2, 1, 2)
    t[0, 0, 0, 1] = math.log(3.0)  # pixel 0: teacher = student (KL 0); pixel 1: KL_3_1
    mask = torch.ones(1, 1, 2, dtype=torch.bool)
    target = torch.tensor([[[0, 1]]])
    x = inputs(student=torch.zeros(1, 2, 1, 2), teacher=t, target=target, mask=mask)
    weights = torch.tensor([1.0, 3.0])
    plain = one("kd:temperature=1", class_weights=weights)(x).item()
    weighted = one("kd:temperature=1,class_weighted=true", class_weights=weights)(x).item()
    assert plain == pytest.approx(KL_3_1 / 2, rel=1e-5)
    assert weighted == pytest.approx(3 * KL_3_1 / 4, rel=1e-5)
    with pytest.raises(DistillError, match="needs --class-weights"):
        one("kd:class_weighted=true")


@pytest.mark.parametrize("name", ["kd", "cwd", "dist"])
def test_correct_only_leaves_out_the_pixels_the_teacher_gets_wrong(name) -> None:
    """``correct_only=true`` is the same loss with the teacher's wrong pixels masked out."""
    x = inputs()
    right = x.teacher.logits.argmax(1) == x.target
    assert 0 < int(right.sum()) < right.numel()
    masked = inputs(mask=x.mask & right)
    gated = one(f"{name}:correct_only=true")(x).item()
    assert gated == pytest.approx(one(name)(masked).item(), rel=1e-6)
    assert gated != pytest.approx(one(name)(x).item(), rel=1e-3)


def test_adjusted_kd_swaps_the_top_logit_with_the_label_s() -> None:
    """Pixel 0: teacher [3, 1, 2] (argmax 0) labelled 2 → [2, 1, 3]; pixel 1 agrees with its label
    and pixel 2 is ignore (255): both unchanged. The loss is plain KD against those logits."""
    from edgeseg.distill.losses.response import label_adjusted

    t = torch.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 1.0], [4.0, 0.0, 0.0]]).T.reshape(1, 3, 1, 3)
    target = torch.tensor([[[2, 1, 255]]])
    adjusted = label_adjusted(t, target)[0, :, 0].T.tolist()
    assert adjusted == [[2.0, 1.0, 3.0], [0.0, 5.0, 1.0], [4.0, 0.0, 0.0]]
    mask = torch.ones(1, 1, 3, dtype=torch.bool)
    x = inputs(student=t.clone(), teacher=t, target=target, mask=mask)  # the student copies it
    against = inputs(student=t.clone(), teacher=label_adjusted(t, target), target=target, mask=mask)
    got = one("kd:temperature=2,adjust=true")(x).item()
    assert got == pytest.approx(one("kd:temperature=2")(against).item(), rel=1e-6)
    assert got > 0 and one("kd:temperature=2")(x).item() == 0


def test_excluded_classes_leave_the_softmaxes_and_their_pixels_go_to_ce() -> None:
    """``exclude=c``: pixel 0 (label a) differs from the teacher only in class c, by 200 logits, and
    its KD is KL over a and b alone (KL_3_1); pixel 1 is labelled c and drops out; c's student logit
    gets no gradient."""
    names = ("a", "b", "c")
    t = torch.tensor([[math.log(3.0), 0.0, 100.0], [5.0, 0.0, 0.0]]).T.reshape(1, 3, 1, 2)
    s = torch.tensor([[0.0, 0.0, -100.0], [0.0, 0.0, 0.0]]).T.reshape(1, 3, 1, 2)
    s.requires_grad_(True)
    target = torch.tensor([[[0, 2]]])
    x = inputs(student=s, teacher=t, target=target, mask=torch.ones(1, 1, 2, dtype=torch.bool))
    loss = one("kd:temperature=1,exclude=C", class_names=names)(x)
    assert loss.item() == pytest.approx(KL_3_1, rel=1e-5)
    loss.backward()
    assert s.grad[0, 2].abs().sum() == 0 and s.grad[0, :2, 0, 0].abs().sum() > 0
    assert one("kd:temperature=1", class_names=names)(x).item() > 10  # without: c dominates
    for spec, message in [
        ("kd:exclude=d", "Unknown class 'd'. .*Valid: a, b, c .in --loss kd:exclude=d."),
        ("kd:exclude=a+b", "kd:exclude=a.b leaves fewer than 2 classes"),
    ]:
        with pytest.raises(DistillError, match=message):
            one(spec, class_names=names)


def test_soft_iou_and_cwd_known_values() -> None:
    uniform = torch.zeros(1, 2, 2, 2)
    x = inputs(
        student=uniform,
        teacher=uniform,
        target=torch.zeros(1, 2, 2, dtype=torch.long),
        mask=torch.ones(1, 2, 2, dtype=torch.bool),
    )
    assert one("iou")(x).item() == pytest.approx(0.75)  # IoUs 0.5 (class 0) and 0 (class 1)
    t = torch.zeros(1, 1, 1, 2)
    t[..., 0] = math.log(3.0)
    x = inputs(
        student=torch.zeros(1, 1, 1, 2),
        teacher=t,
        target=torch.zeros(1, 1, 2, dtype=torch.long),
        mask=torch.ones(1, 1, 2, dtype=torch.bool),
    )
    assert one("cwd:tau=1")(x).item() == pytest.approx(KL_3_1, rel=1e-5)


def test_dist_is_one_minus_pearson_per_pixel_and_per_class() -> None:
    """Known values against ``torch.corrcoef`` on the masked pixels' probabilities; a student
    that copies the teacher costs nothing, at any temperature."""
    x = inputs()
    x.mask[0, :2] = False  # 16 pixels out
    keep = x.mask.reshape(-1)
    p_s, p_t = (
        torch.softmax(v.permute(0, 2, 3, 1).reshape(-1, C)[keep] / 2.0, 1)
        for v in (x.student["out"], x.teacher.logits)
    )
    per_pixel = [torch.corrcoef(torch.stack([a, b]))[0, 1] for a, b in zip(p_s, p_t, strict=True)]
    per_class = [
        torch.corrcoef(torch.stack([a, b]))[0, 1] for a, b in zip(p_s.T, p_t.T, strict=True)
    ]
    inter, intra = 1 - torch.stack(per_pixel).mean(), 1 - torch.stack(per_class).mean()
    got = one("dist:temperature=2,beta=1,gamma=3")(x).item()
    assert got == pytest.approx(4 * (inter + 3 * intra).item(), rel=1e-4)
    copy = inputs(student=x.teacher.logits.clone(), teacher=x.teacher.logits, mask=x.mask)
    assert one("dist:temperature=4")(copy).item() == pytest.approx(0.0, abs=1e-3)  # T² · float eps
    assert one("dist:temperature=4")(inputs(mask=torch.zeros(N, H, W, dtype=torch.bool))) == 0


def identity_feature_kd(spec: str):
    """A feature loss whose adapter passes the student tap through unchanged."""
    loss = one(spec, teacher_channels={"high": FEAT})
    with torch.no_grad():
        loss.adapters["high"].weight.copy_(torch.eye(FEAT).view(FEAT, FEAT, 1, 1))
        loss.adapters["high"].bias.zero_()
    return loss


def test_feature_kd_adapters_and_cosine() -> None:
    loss = identity_feature_kd("feature")
    f = torch.randn(N, FEAT, H, W)
    same = inputs(feats=f, tfeats=f.clone())
    assert loss(same).item() == pytest.approx(0.0, abs=1e-6)
    assert loss(inputs(feats=f, tfeats=-f)).item() == pytest.approx(2.0, abs=1e-5)
    assert one("feature").params.weight == 10.0
    with pytest.raises(DistillError, match="tap 'mid'"):
        one("feature:taps=mid")


def test_feature_kd_kl_reads_the_tap_as_class_scores() -> None:
    """``distance=kl``: the adapter is an auxiliary head and the teacher tap its soft target."""
    loss = identity_feature_kd("feature:distance=kl,temperature=1")
    f = torch.randn(N, FEAT, H, W)
    assert loss(inputs(feats=f, tfeats=f + 5.0)).item() == pytest.approx(0.0, abs=1e-5)
    scores = torch.zeros(N, FEAT, H, W)
    scores[:, 0] = math.log(3.0)  # teacher [1/2, 1/6, 1/6, 1/6], student uniform
    expected = 0.5 * math.log(2.0) + 0.5 * math.log(2.0 / 3.0)
    uniform = inputs(feats=torch.zeros(N, FEAT, H, W), tfeats=scores)
    assert loss(uniform).item() == pytest.approx(expected, abs=1e-5)
    assert one("feature", teacher_channels={"high": FEAT}).params.distance == "cosine"
    message = r"Unknown distance 'l2'\. Did you mean 'kl'\? Valid: cosine, kl \(in --loss feature:"
    with pytest.raises(DistillError, match=message):
        one("feature:distance=l2")


def test_affinity_is_smallest_when_the_student_copies_the_teacher() -> None:
    loss = one("affinity:grid=4")
    f = torch.randn(N, FEAT, H, W)
    target = affinity_logits(f, 4, 0.1).softmax(-1)
    entropy = -(target * target.log()).sum(-1).mean()
    copy = loss(inputs(feats=f, tfeats=f.clone()))
    assert copy.item() == pytest.approx(entropy.item(), rel=1e-4)
    assert loss(inputs(feats=torch.randn(N, FEAT, H, W), tfeats=f)) > copy


def test_kl_warmup_moves_by_the_step_within_bounds_and_is_state() -> None:
    loss = one("warmup:max=0.1").train()
    assert float(loss.kl_weight) == 0.0
    t = torch.randn(N, C, H, W)
    far, near, nearer = (inputs(student=k * t, teacher=t) for k in (-1.0, 0.5, 0.9))
    steps = [(far, 0.05), (near, 0.1), (nearer, 0.1), (far, 0.05), (far, 0.0), (far, 0.0)]
    for x, expected in steps:  # up when KL fell (from +inf at first), capped at max; down to min
        loss(x)
        assert float(loss.kl_weight) == pytest.approx(expected, abs=1e-6)
    loss.eval()(near)  # evaluation never adapts
    assert float(loss.kl_weight) == 0.0
    assert set(loss.state_dict()) == {"kl_weight", "previous_kl"}


def test_fsi_reciprocal_selection_and_weighted_head() -> None:
    def logits(labels):
        return torch.nn.functional.one_hot(torch.tensor(labels), 3).float().T.reshape(1, 3, 1, 4)

    # pixels: agree fg | agree bg | student fg, teacher bg | student bg, teacher fg
    student, teacher = logits([1, 0, 2, 0]), logits([1, 0, 0, 2])
    selected = reciprocal_selection(student, teacher, frozenset({0}))
    assert selected.flatten().tolist() == [True, False, True, False]
    loss = one("fsi")
    with torch.no_grad():
        loss.head.weight.zero_()
        loss.head.bias.zero_()  # fg logit 0: BCE = ln 2 everywhere
    features = torch.zeros(1, FEAT, 1, 4)
    head = loss.head_loss(features, torch.tensor([[[1, 0, 0, 255]]]))
    assert head.item() == pytest.approx(math.log(2) * (2 + 1 + 1) / 3, rel=1e-5)
    with pytest.raises(DistillError, match="background"):
        one("fsi", background=frozenset())


def test_bad_loss_specs_are_one_line_errors() -> None:
    with pytest.raises(DistillError, match="Unknown loss 'kdd'. Did you mean 'kd'"):
        build_losses(["kdd"], context())
    with pytest.raises(DistillError, match="option of loss 'kd'"):
        build_losses(["kd:temp=3"], context())
    with pytest.raises(DistillError, match="not a float"):
        build_losses(["kd:temperature=hot"], context())
    # a switch reads true/false only: "maybe" or a typo was once read as false, silently
    with pytest.raises(DistillError, match="--loss kd: correct_only=maybe: write true or false"):
        build_losses(["kd:correct_only=maybe"], context())
    assert build_losses(["kd:correct_only=No"], context())["kd"].params.correct_only is False
    assert build_losses(["kd:correct_only=YES"], context())["kd"].params.correct_only is True
    with pytest.raises(DistillError, match="only checkpoint teachers"):
        build_losses(["feature"], context(teacher_channels={}))
