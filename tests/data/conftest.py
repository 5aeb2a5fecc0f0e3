import pytest
from sample_data import write_images


@pytest.fixture
def image_folder(tmp_path):
    return write_images(tmp_path / "images", formats=("jpg", "png", "bmp", "gif"))


@pytest.fixture
def text_folder(tmp_path):
    root = tmp_path / "texts"
    words = {"pos": "good great fine lovely", "neg": "bad awful poor terrible"}
    for label, vocabulary in words.items():
        (root / label).mkdir(parents=True)
        for i in range(10):
            tokens = vocabulary.split() * (i % 3 + 1)
            (root / label / f"{i}.txt").write_text(" ".join(tokens) + f" movie{i}")
    return root
