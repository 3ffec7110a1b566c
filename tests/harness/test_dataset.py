"""harness.dataset.Dataset: y_labels.csv in file order, inputs read only from inside the dataset
folder, and ad01's sliding windows (protocol.md 1.6, 2.3), with hostile truth files."""

from __future__ import annotations

import hashlib
import threading

import pytest

from harness.dataset import Dataset, DatasetInput, Segment
from harness.errors import HarnessError
from helpers.shared import shared_path


def folder_with(tmp_path, truth: str, files: dict[str, bytes] | None = None, name: str = "y_labels.csv"):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / name).write_text(truth)
    for file, data in (files or {}).items():
        (folder / file).write_bytes(data)
    return folder


def test_inputs_in_truth_file_order_with_their_labels(tmp_path):
    folder = folder_with(tmp_path, "b.bin,12,7\na.bin, 12, 2\n\n", {"a.bin": b"A" * 490, "b.bin": b"B" * 490})
    dataset = Dataset(folder)
    assert dataset.inputs == [DatasetInput(0, "b.bin", 12, 7, None, None), DatasetInput(1, "a.bin", 12, 2, None, None)]
    first = dataset.inputs[0]
    data = dataset.read(first)
    assert data == b"B" * 490
    assert dataset.segments(first, data) == [Segment(0, data)]
    assert dataset.segments(first, data)[0].sha256 == hashlib.sha256(data).hexdigest()


def test_another_truth_file_name(tmp_path):
    folder = folder_with(tmp_path, "x.bin,2,1\n", {"x.bin": b"x"}, name="y_labels_alt.csv")
    assert [i.file for i in Dataset(folder, "y_labels_alt.csv").inputs] == ["x.bin"]
    with pytest.raises(HarnessError, match="y_labels.csv: the truth file is missing"):
        Dataset(folder)


def test_a_missing_truth_file_says_what_a_dataset_folder_holds(tmp_path):
    with pytest.raises(HarnessError, match="file,classes,class\\[,bytes_to_send,stride\\]"):
        Dataset(tmp_path)


@pytest.mark.parametrize("truth", ["", "\n\n", " ,\n"])
def test_an_empty_truth_file_is_refused(tmp_path, truth):
    with pytest.raises(HarnessError, match="no inputs listed"):
        Dataset(folder_with(tmp_path, truth))


@pytest.mark.parametrize("truth", ["file,classes,class\nx.bin,2,1\n", "x.bin,2\n", "x.bin,two,1\n", "x.bin,2,1,2560,abc\n"])
def test_a_malformed_row_is_refused_with_its_line(tmp_path, truth):
    with pytest.raises(HarnessError, match=r"y_labels.csv:\d+: not a y_labels.csv row"):
        Dataset(folder_with(tmp_path, truth))


@pytest.mark.parametrize("name", ["../x.bin", "/etc/hostname", "sub/x.bin", "..\u2215x.bin/", "./x.bin"])
def test_a_path_as_a_file_name_is_never_read(tmp_path, name):
    (tmp_path / "x.bin").write_bytes(b"outside the dataset")  # what ../x.bin would reach
    folder = folder_with(tmp_path, f"{name},2,1\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "x.bin").write_bytes(b"in a sub-folder")
    dataset = Dataset(folder)
    with pytest.raises(HarnessError, match="not a plain file name inside the dataset folder"):
        dataset.read(dataset.inputs[0])


def test_a_directory_named_as_an_input_is_an_error_not_a_crash(tmp_path):
    dataset = Dataset(folder_with(tmp_path, "..,2,1\n"))
    with pytest.raises(HarnessError, match="cannot read the input"):
        dataset.read(dataset.inputs[0])


def test_a_missing_input_file(tmp_path):
    dataset = Dataset(folder_with(tmp_path, "gone.bin,2,1\n"))
    with pytest.raises(HarnessError, match="gone.bin: cannot read the input listed in the truth file"):
        dataset.read(dataset.inputs[0])


def test_an_input_larger_than_any_benchmark_input(tmp_path):
    dataset = Dataset(folder_with(tmp_path, "big.bin,2,1\n", {"big.bin": b"\0" * 4097}))
    with pytest.raises(HarnessError, match="4097 bytes is larger than any MLPerf Tiny input"):
        dataset.read(dataset.inputs[0], max_bytes=4096)
    assert len(dataset.read(dataset.inputs[0], max_bytes=4097)) == 4097


# ------------------------------------------------------------------------------- ad01 windows


def ad_dataset(tmp_path, size: int, width: str = "2560", stride: str = "512"):
    data = bytes(i % 251 for i in range(size))
    dataset = Dataset(folder_with(tmp_path, f"normal_id_01.bin,2,0,{width},{stride}\n", {"normal_id_01.bin": data}))
    return dataset, dataset.inputs[0], data


def test_ad_windows_slide_by_the_stride_and_drop_a_short_tail(tmp_path):
    dataset, item, data = ad_dataset(tmp_path, 2560 + 3 * 512 + 100)
    assert (item.width, item.stride) == (2560, 512)
    segments = dataset.segments(item, data)
    assert [s.offset for s in segments] == [0, 512, 1024, 1536]
    assert all(s.data == data[s.offset:s.offset + 2560] for s in segments)
    assert dataset.segments(item, data, first_only=True) == segments[:1]


def test_an_ad_file_of_exactly_one_window(tmp_path):
    dataset, item, data = ad_dataset(tmp_path, 2560)
    assert dataset.segments(item, data) == [Segment(0, data)]


@pytest.mark.parametrize("size", [0, 1, 2559])
def test_an_ad_file_shorter_than_one_window_is_refused(tmp_path, size):
    dataset, item, data = ad_dataset(tmp_path, size)
    with pytest.raises(HarnessError, match=f"{size} bytes is shorter than one 2560-byte window"):
        dataset.segments(item, data)
    with pytest.raises(HarnessError):
        dataset.segments(item, data, first_only=True)


@pytest.mark.parametrize("width, stride", [("2560", "0"), ("2560", "-512"), ("0", "512"), ("-1", "512"), ("2560", "")])
def test_a_window_or_stride_that_is_not_positive_is_refused_not_looped_on(tmp_path, width, stride):
    """A stride of 0 or below would never end (the loop adds it to the start); a width of 0 or
    below, or a width with no stride, has no meaning. They are refused, promptly."""
    dataset, item, data = ad_dataset(tmp_path, 5120, width, stride)
    outcome: list = []

    def cut():
        try:
            outcome.append(dataset.segments(item, data))
        except HarnessError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=cut, daemon=True)
    worker.start()
    worker.join(2.0)
    assert not worker.is_alive(), "segments() did not return"
    assert isinstance(outcome[0], HarnessError) and "must be whole numbers above 0" in str(outcome[0])


def test_the_real_kws01_inputs_read_in_place():
    folder = shared_path("data", "energyrunner", "datasets", "kws01")
    dataset = Dataset(folder, model="kws01")
    assert len(dataset.inputs) == 1000
    first = dataset.inputs[0]
    assert (first.file, first.classes, first.label) == ("tst_000000_Stop_7.bin", 12, 7)
    data = dataset.read(first)
    assert len(data) == 490 and dataset.segments(first, data) == [Segment(0, data)]
