# make run  - set up, migrate, load the demo data once, serve at http://127.0.0.1:5000
# make test - set up and run every test (SQLite, then PostgreSQL when it answers)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := app.py
HOST ?= 127.0.0.1
PORT ?= 5000
CATALOGS := $(wildcard translations/*/LC_MESSAGES/messages.po)

.PHONY: run test setup setup-test system-packages system-packages-test db demo i18n-extract i18n-compile bench clean

run: setup db demo
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: setup-test
	scripts/run-tests.sh

setup: system-packages $(BIN)/.installed i18n-compile

setup-test: system-packages-test $(BIN)/.installed i18n-compile

system-packages:
	scripts/system-packages.sh run

system-packages-test:
	scripts/system-packages.sh test

$(BIN)/.installed: requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || (echo "Python 3.11 or newer is needed" >&2; exit 1)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

i18n-compile: $(CATALOGS:.po=.mo)

%.mo: %.po $(BIN)/.installed
	$(BIN)/pybabel compile -i $< -o $@

# Re-extract messages after changing UI text, then translate the new entries in the .po files.
i18n-extract: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot \
		--project wuji --no-location --sort-output --ignore-dirs=".venv tests bench" .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --ignore-obsolete --no-fuzzy-matching

db: setup
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask demo load

bench: setup
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) translations/*/LC_MESSAGES/*.mo
