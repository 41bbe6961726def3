"""Small shared building blocks with no knowledge of the business: dates (the one ``as_of``
parser, the month toolkit, working days), money in integer micro-units, Arrow text helpers,
column checks, small statistics (Wilson intervals, bands) and privacy (e-mail masking).

May import: ``feedback_lib.errors`` only. Everything else in the library may import from here.
"""
