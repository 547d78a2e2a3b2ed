"""FakeData: random images with random labels, reproducible per index."""

from __future__ import annotations

import taimatsu as tm

from .. import transforms
from .vision import VisionDataset

__all__ = ["FakeData"]


class FakeData(VisionDataset):
    """`size` random images (standard normal noise shown as a PIL image) with labels in
    [0, num_classes). Sample i is drawn from a generator seeded with i + random_offset,
    so it is the same every time and the global RNG is left untouched.

    Args:
        size: number of samples
        image_size: (C, H, W)
        num_classes: number of labels
        transform, target_transform: applied to the PIL image / the int label
        random_offset: shifts every sample's seed (a different fake set)
    """

    def __init__(self, size: int = 1000, image_size=(3, 224, 224), num_classes: int = 10,
                 transform=None, target_transform=None, random_offset: int = 0):
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = tuple(image_size)
        self.random_offset = random_offset

    def __getitem__(self, index: int):
        if index >= len(self):
            raise IndexError(f"{self.__class__.__name__} index out of range")
        gen = tm.Generator().manual_seed(index + self.random_offset)
        img = tm.randn(*self.image_size, generator=gen)
        target = int(tm.randint(0, self.num_classes, size=(1,), generator=gen).item())
        img = transforms.ToPILImage()(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return self.size
