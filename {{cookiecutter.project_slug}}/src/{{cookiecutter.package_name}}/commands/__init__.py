"""The commands of the command line, one module per stage of a model's life.

:mod:`.training` makes and judges a model (``train``, ``tune``, ``evaluate``,
``validate``), :mod:`.scoring` uses one (``predict``, ``explain``, ``info``) and
:mod:`.operations` watches one in production (``monitor``, ``staleness``,
``readiness``). Each module exposes its commands in ``COMMANDS``, which :mod:`..cli`
adds to the group, as it adds those of optional subpackages.
"""
