#!/usr/bin/env bash
# Build the release tarball: the stripped mrhost binary (the release profile: thin LTO,
# `strip = true`) and the bundled plugins, with the man page and shell completions:
#
#   mrhost-VERSION-TARGET/bin/mrhost
#   mrhost-VERSION-TARGET/share/mrhost/plugins/*.wasm      (found beside the binary)
#   mrhost-VERSION-TARGET/share/man/man1/mrhost.1
#   mrhost-VERSION-TARGET/share/{bash-completion/completions,zsh/site-functions,fish/vendor_completions.d}/
#
# into target/dist/mrhost-VERSION-TARGET.tar.gz (and its .sha256). The binary links only
# libc (SQLite is bundled, TLS is rustls): it runs on any glibc as new as the build
# machine's. TARGET=x86_64-unknown-linux-musl makes it fully static when that target is
# installed (rustup target add x86_64-unknown-linux-musl). PROFILE=dev packs a debug build
# (to try the packaging quickly).
#
# Install: tar -xzf mrhost-*.tar.gz -C ~/.local --strip-components=1
#          (or -C /usr/local as root); then `mrhost plugins path` shows where plugins are.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${TARGET:-$(rustc -vV | sed -n 's/^host: //p')}
profile=${PROFILE:-release}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
name="mrhost-$version-$target"

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
out_dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
if [ -n "${TARGET:-}" ]; then
  cargo build --locked --profile "$profile" --target "$target" -p mrhost
  bin="$target_dir/$target/$out_dir/mrhost"
else
  cargo build --locked --profile "$profile" -p mrhost
  bin="$target_dir/$out_dir/mrhost"
fi
scripts/build-plugins.sh
dist="$target_dir/dist"
stage="$dist/$name"
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/share/mrhost/plugins" "$stage/share/man/man1" \
  "$stage/share/bash-completion/completions" "$stage/share/zsh/site-functions" \
  "$stage/share/fish/vendor_completions.d"
install -m 0755 "$bin" "$stage/bin/mrhost"
# The bundled plugins only (tests/plugins/ holds the hostile and test-only ones).
for w in plugins/*.wasm; do
  install -m 0644 "$w" "$stage/share/mrhost/plugins/"
done
"$stage/bin/mrhost" completions man > "$stage/share/man/man1/mrhost.1"
"$stage/bin/mrhost" completions bash > "$stage/share/bash-completion/completions/mrhost"
"$stage/bin/mrhost" completions zsh > "$stage/share/zsh/site-functions/_mrhost"
"$stage/bin/mrhost" completions fish > "$stage/share/fish/vendor_completions.d/mrhost.fish"
cp README.md LICENSE* "$stage/" 2>/dev/null || cp README.md "$stage/"

# The unpacked binary finds its plugins (bin/../share/mrhost/plugins) wherever it is.
found=$(MRHOST_PLUGIN_PATH= XDG_DATA_HOME=/nonexistent XDG_CONFIG_HOME=/nonexistent \
  "$stage/bin/mrhost" plugins path | grep -c "share/mrhost/plugins$" || true)
[ "$found" -ge 1 ] || { echo "release: the binary does not see its bundled plugins" >&2; exit 1; }

tar -C "$dist" -czf "$dist/$name.tar.gz" "$name"
(cd "$dist" && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
echo "$dist/$name.tar.gz: $(du -h "$dist/$name.tar.gz" | cut -f1), binary $(du -h "$stage/bin/mrhost" | cut -f1), $(ls "$stage/share/mrhost/plugins" | wc -l) plugins"
