"""The embedded sandbox: a simulated W&B deployment served in-process on loopback.

`Sandbox` (sandbox.py) composes it: the Kubernetes API fake (kube/), the Google API fakes
(google/), MySQL (mysql/) and Redis (redis.py), each serving its real protocol, kept in step by
the simulation (sim/: the clock, the queue model, the operator, the scenarios and their stories).
"""

from wbctl.sandbox.sandbox import Sandbox, sandbox_dir, scenario_named

__all__ = ["Sandbox", "sandbox_dir", "scenario_named"]
