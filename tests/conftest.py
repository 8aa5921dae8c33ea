import pytest


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
    """Every data path a test may write goes to its own tmp_path."""
    monkeypatch.setenv("JIXIAO_DATA_DIR", str(tmp_path / "var"))
    yield
