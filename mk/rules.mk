# mk/rules.mk: see Makefile.am
