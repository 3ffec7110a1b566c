"""Options that several `submit` commands share (check, report), declared once so they read alike."""

from __future__ import annotations


import typer

from submission_tools.reference import ENV_VAR


def tree_argument():
    return typer.Argument(..., help="A results tree: the folder holding closed/ and open/, "
                                    "one division folder, or one submitter folder.")


def round_option():
    return typer.Option(None, "--version", "--round", metavar="VERSION",
                        help="Rule set of this round (v1.0 to v1.4); detected from the tree when omitted.")


def reference_option():
    return typer.Option(None, "--reference", envvar=ENV_VAR, help=f"Checkout of mlcommons/tiny (or ${ENV_VAR}).")


def labels_option():
    return typer.Option(None, "--labels", metavar="DIR",
                        help="Extra label folders (<model>/y_labels.csv), e.g. an eembc/energyrunner datasets "
                             "folder for the older ic01 set. Repeatable.")


def max_file_option():
    return typer.Option(100.0, "--max-file-mb", min=0.001, help="Largest file allowed in the tree, in MiB.")


__all__ = ["labels_option", "max_file_option", "reference_option", "round_option", "tree_argument"]
