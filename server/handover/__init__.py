"""Leavers' customers (SPEC R-U2): the hand-over list and the grace-period return to pools."""
