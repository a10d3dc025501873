# mk/detect.mk: see Makefile.am
