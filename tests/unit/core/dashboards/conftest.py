from __future__ import annotations

import pytest

from tests.support.alert_settings import VARIANTS
from wbctl.core import alerts


@pytest.fixture(params=sorted(VARIANTS))
def settings(request: pytest.FixtureRequest) -> alerts.AlertSettings:
    """Each variant of the settings that changes what the dashboards hold."""
    return VARIANTS[request.param]
