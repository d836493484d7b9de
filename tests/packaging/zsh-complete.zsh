#!/usr/bin/zsh -f
# Prints, one per line, what zsh's completion offers for a command line, as an interactive zsh
# computes it when the user presses TAB at the line's end:
#   zsh -f zsh-complete.zsh FPATH_DIR 'vigilctl rules ' [DUMP]
# An interactive zsh runs in a pseudo-terminal (zsh/zpty) with compinit and FPATH_DIR first in
# $fpath; a wrapper of compadd prints each match the completion functions add (after zsh's own
# filtering by what is typed), between two marker lines, and the shell exits after the TAB.
# The technique is that of zsh-capture-completion (github.com/Valodim/zsh-capture-completion).
emulate -L zsh
zmodload zsh/zpty || exit 2
(( $# == 2 || $# == 3 )) || { print -u2 "usage: $0 FPATH_DIR LINE [DUMP]"; exit 2 }
fpath_dir=$1 cmdline=$2
# compinit's dump file (DUMP): reading every completion function's first line takes seconds
# on a busy machine; without one, no dump
dump=(-D)
(( $# == 3 )) && dump=(-d $3)

# the setup, read by the interactive shell as one line: Enter stops working at its end
rc=$(mktemp) || exit 2
trap 'rm -f $rc' EXIT
print -r -- "fpath=(${(q)fpath_dir} \$fpath); compinit_args=(${(q)dump})" > $rc
cat >> $rc <<'SETUP'
PROMPT= RPROMPT= PS2=
unsetopt zle_bracketed_paste 2>/dev/null
autoload -Uz compinit && compinit -u $compinit_args
zmodload zsh/zutil
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
# no listing after the TAB: a long one would ask "do you wish to see all N possibilities?"
unsetopt auto_list auto_menu list_beep
LISTMAX=1000000
# the markers: lines VIGIL-BEGIN and VIGIL-END around the matches; the shell exits after the TAB
vigil_begin() { print -r -- VIGIL-BEGIN }
vigil_end() { print -r -- VIGIL-END }
compprefuncs=(vigil_begin)
comppostfuncs=(vigil_end exit)
# compadd: what the completion functions add, and zsh keeps, is printed with its prefixes
compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
    builtin compadd "$@"; return $?
  fi
  local -a vigil_hits apre hpre
  builtin compadd -A vigil_hits "$@"
  zparseopts -E P:=apre p:=hpre
  local hit
  for hit in $vigil_hits; do
    print -r -- "VIGIL-MATCH $IPREFIX${apre[2]}${hpre[2]}$hit"
  done
  builtin compadd "$@"
}
# never run the line: Enter does nothing, TAB completes
bindkey '^M' undefined-key
bindkey '^J' undefined-key
bindkey '^I' complete-word
print -r -- VIGIL-READY
SETUP

zpty vigil_z zsh -f -i || exit 2
zpty -w vigil_z "source ${(q)rc}"
zpty -r vigil_z line '*VIGIL-READY*' || exit 3

# the line and a TAB; then everything the shell prints until it exits
zpty -w -n vigil_z "$cmdline"$'\t'
out=
while zpty -r vigil_z line; do
  out+=$line
done
zpty -d vigil_z
integer inside=0
for line in ${(f)out//$'\r'/}; do
  case $line in
    (*VIGIL-BEGIN) inside=1 ;;
    (*VIGIL-END) inside=0 ;;
    (*VIGIL-MATCH\ *) (( inside )) && print -r -- ${line#*VIGIL-MATCH } ;;
  esac
done
