"""The ``sendguard`` command line (SPEC 4 and 10.4): ``main`` parses and dispatches, ``base``
holds what every command shares, and one module per command group registers its
sub-commands. Nothing is imported here, so ``sendguard check`` starts fast.
"""
