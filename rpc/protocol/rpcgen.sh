#!/bin/sh
# Run rpcgen on our spec and make the generated C include its header by plain name.
# usage: rpcgen.sh RPCGEN -h|-c INPUT.x OUTPUT
set -eu
rpcgen=$1 mode=$2 input=$3
case $4 in /*) output=$4 ;; *) output=$(pwd)/$4 ;; esac
dir=$(dirname "$input")
base=$(basename "$input")
cd "$dir"
"$rpcgen" "$mode" "$base" | sed -e "s|#include \".*${base%.x}.h\"|#include \"${base%.x}.h\"|" > "$output.tmp"
mv "$output.tmp" "$output"
