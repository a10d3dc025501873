# mk/milter.mk: see Makefile.am
