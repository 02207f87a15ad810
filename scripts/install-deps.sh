#!/bin/sh
# Installs the Debian 12 packages Barra needs to build, test and run.
# Idempotent: packages already present are left alone, and apt is not touched at all when nothing is missing.
set -eu

packages="
build-essential meson ninja-build pkg-config git
clang libclang-rt-14-dev clang-format-16 clang-tidy-16
libvectorscan-dev libutf8proc-dev libyaml-dev libjansson-dev libcmocka-dev libssl-dev
libsqlite3-dev sqlite3 python3-cryptography
libmicrohttpd-dev libcurl4-openssl-dev apache2 wrk curl
libarchive-dev libexpat1-dev libmagic-dev libseccomp-dev libpoppler-glib-dev poppler-data
python3-reportlab libtesseract-dev libleptonica-dev tesseract-ocr-chi-tra tesseract-ocr-chi-sim
tesseract-ocr-eng tesseract-ocr-osd python3-pil fonts-wqy-zenhei libgsf-1-dev
libreoffice-writer-nogui libreoffice-calc-nogui libmaxminddb-dev libmaxmind-db-writer-perl
python3
"

missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

echo "barra: installing missing Debian packages:$missing" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        echo "barra: need root (or sudo) to install:$missing" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
