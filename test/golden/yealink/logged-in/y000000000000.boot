#!version:1.0.0.1
## hotdesk boot file for 001565aabb01 (T46U): no secrets.
## Later files win: the common file first, then the phone's own file.
include:config "y000000000108.cfg"
include:config "001565aabb01.cfg"
