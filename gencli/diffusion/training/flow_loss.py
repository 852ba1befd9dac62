"""The conditional flow matching loss (Lipman et al. 2023), with minibatch-OT pairs for flow-ot (Tong et al. 2023)."""

from __future__ import annotations

import torch
from torch import Tensor

from gencli.diffusion.model.denoiser import Denoiser
from gencli.diffusion.process.flow import LinearFlow, interpolate, target_velocity
from gencli.diffusion.process.pairing import ot_pairs


def flow_matching_loss(
    model: Denoiser,
    x1: Tensor,
    labels: Tensor | None,
    flow: LinearFlow,
    gen: torch.Generator,
    class_dropout: float = 0.0,
    ot: bool = False,
) -> Tensor:
    """mean ||v(x_s, s[, c]) - (x1 - x0)||^2 over the batch, in the model's standardised frame, with
    x_s = (1 - s) x0 + s x1, x0 ~ N(0, I), s ~ U(0, 1) per point (the network is called at gencli's t = 1 - s).

    `ot`: the source draws are paired with the batch's points by the exact minimum-cost assignment, within each
    class when there are labels; class dropout (classifier-free guidance) then hides the class of a share of the
    pairs, after they were formed.
    """
    shift, scale = torch.tensor(flow.shift, device=x1.device), flow.scale
    data = (x1 - shift) / scale  # the standardised frame, where the source is N(0, I)
    noise = torch.randn(data.shape, generator=gen).to(x1.device)  # drawn on the CPU: the same on every device
    s = torch.rand(data.shape[0], generator=gen).to(x1.device)
    if ot:
        noise = ot_pairs(noise, data, labels)
    if labels is not None and class_dropout > 0:
        drop = (torch.rand(data.shape[0], generator=gen) < class_dropout).to(x1.device)
        labels = labels.masked_fill(drop, model.null_index)
    xs = interpolate(noise, data, s)
    pred = model(shift + scale * xs, 1 - s, labels)
    return ((pred - target_velocity(noise, data)) ** 2).mean()
