"""A module shipped with --py-files to the corpus programs that import it in tasks."""

SCALE = 3


def scale(x):
    return x * SCALE


def describe(x):
    return "item-%02d" % x
