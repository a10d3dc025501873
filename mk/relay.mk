# mk/relay.mk: see Makefile.am
