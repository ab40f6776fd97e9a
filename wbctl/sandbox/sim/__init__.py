"""The simulation behind the embedded sandbox: what the fakes serve, and how it moves in time.

- clock.py: the simulated clock (a speed over the wall clock, saved between commands);
- queue_model.py: the run-updates queue, the updater and Bigtable as a step model (stories, changes, samples);
- scenarios.py: the named scenarios (a story, its length, the starting MySQL variables);
- stories.py: a story's samples served as Google's APIs and the chart's objects would serve them;
- world.py: the deployment as it lives, the model and the fakes kept in step before each call;
- operator.py and operator_pods.py: the operator and the Kubernetes controllers under it;
- lock.py: one wbctl at a time per scenario; serve.py: `wbctl sandbox serve`.
"""
