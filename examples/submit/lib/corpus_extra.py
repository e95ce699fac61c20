"""A module shipped with SparkContext.addPyFile by a corpus program."""


def shout(s):
    return s.upper() + "!"
