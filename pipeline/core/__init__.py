"""The pure reading core: what a notice says, computed from its text alone.

Two rooms live in ``pipeline/``. This one (``pipeline.core``) holds pure functions and value
types: document numbers and keys (``docnumber``), written dates (``dates``), tagging of codes,
elements, HS codes, typed dates and relations (``tagging``), canonical text and hashes
(``normalize``), the record types (``records``), attachment text (``attachments``), which copy is
authoritative (``authority``), legal status over relations (``status``), deadlines
(``deadlines``), text and field diffs (``diff``, ``fielddiff``, ``render_diff``) and the alerts a
change calls for (``classify``). Given the same input they give the same output: no clock, no
database, no network, no configuration file.

The other room is the stages around it (``process``, ``deliver``, ``remind``, ``crawl``,
``daemon``, ``config``, ``demo``, ``cli``, ``web``, ...), which read and write the store, talk to
sinks and run crawls, and call into this core. ``tests/test_layering.py`` enforces the direction:
nothing here imports a stage, ``store``, ``alerts``, ``crawlers`` or a network/database library.
"""
