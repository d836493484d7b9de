# bash completion for vigilctl(1): commands, options, rule ids, rule keywords, program paths
# (installed as /usr/share/bash-completion/completions/vigilctl)

# the ids of the rules the user may see, from vigild itself; nothing when vigild is not running
# (--no-ask-password: a completion never asks for a password)
_vigilctl_rule_ids()
{
    vigilctl --json --no-ask-password rules list 2>/dev/null |
        grep -oE '[{,]"id":[0-9]+' | grep -oE '[0-9]+$'
}

# the words of a rule (vigil.rules(5)): after a keyword its values, else the keywords
_vigilctl_rule_words()
{
    local prev=$1 cur=$2
    case $prev in
        app)
            COMPREPLY=($(compgen -W 'unknown any' -- "$cur"))
            if [[ $cur == /* || -z $cur ]]; then
                compopt -o filenames 2>/dev/null
                COMPREPLY+=($(compgen -f -- "${cur:-/}"))
            fi
            return ;;
        user)
            COMPREPLY=($(compgen -u -W 'all' -- "$cur")); return ;;
        proto)
            COMPREPLY=($(compgen -W 'tcp udp udplite sctp icmp any' -- "$cur")); return ;;
        to)
            COMPREPLY=($(compgen -A hostname -W 'any' -- "$cur")); return ;;
        port | sha256 | args | appid | until | until-quit | note)
            return ;;
    esac
    local words=(allow deny drop user app sha256 args appid to port proto until until-quit
        capture disabled note)
    COMPREPLY=($(compgen -W "${words[*]}" -- "$cur"))
}

_vigilctl()
{
    local cur prev words cword split
    _init_completion -s || return

    local global_opts='-j --json --no-ask-password -h --help'
    local commands='status rules pending log top export monitor prompt enable disable config
        captures help'
    local rules_commands='list add edit remove enable disable import export'

    # the command and, for "rules", its subcommand: the first words that are not options
    local i command='' sub='' sub_at=0
    for ((i = 1; i < cword; i++)); do
        [[ ${words[i]} == -* ]] && continue
        if [[ -z $command ]]; then
            command=${words[i]}
        elif [[ $command == rules && -z $sub ]]; then
            sub=${words[i]}
            sub_at=$i
            break
        fi
    done

    # options that take a value
    case $prev in
        -p | --program)
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -c -- "$cur") $(compgen -f -- "$cur"))
            return ;;
        -v | --verdict)
            COMPREPLY=($(compgen -W 'allow deny drop' -- "$cur")); return ;;
        -u | --uid)
            COMPREPLY=($(compgen -W "$(getent passwd | cut -d: -f3)" -- "$cur")); return ;;
        -s | --since | --until | -n | --limit | --lines)
            return ;;
        --sort)
            COMPREPLY=($(compgen -W 'connections bytes destinations denied' -- "$cur")); return ;;
        -f | --format)
            COMPREPLY=($(compgen -W 'csv json' -- "$cur")); return ;;
        --duration)
            COMPREPLY=($(compgen -W 'once until-quit 5m 1h 24h forever' -- "$cur")); return ;;
    esac
    $split && return

    if [[ -z $command ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$global_opts --version" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        fi
        return
    fi

    local opts=$global_opts
    case $command in
        log) opts+=' -p --program= -v --verdict= -u --uid= -s --since= --until= -n --limit=' ;;
        monitor) opts+=' -p --program= -v --verdict= -u --uid= -n --lines=' ;;
        top) opts+=' --sort= -n --limit= -s --since= --until= -u --uid=' ;;
        export) opts+=' -f --format= -s --since= --until= -u --uid=' ;;
        prompt) opts+=' --duration=' ;;
        rules) [[ $sub == add ]] && opts+=' -m --mine' ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        [[ ${COMPREPLY-} == *= ]] && compopt -o nospace 2>/dev/null
        return
    fi

    case $command in
        rules)
            if [[ -z $sub ]]; then
                COMPREPLY=($(compgen -W "$rules_commands" -- "$cur"))
                return
            fi
            # the words after the subcommand that are not options
            local args=()
            for ((i = sub_at + 1; i < cword; i++)); do
                [[ ${words[i]} == -* ]] || args+=("${words[i]}")
            done
            case $sub in
                remove | enable | disable)
                    COMPREPLY=($(compgen -W "$(_vigilctl_rule_ids)" -- "$cur")) ;;
                edit)
                    if ((${#args[@]} == 0)); then
                        COMPREPLY=($(compgen -W "$(_vigilctl_rule_ids)" -- "$cur"))
                    else
                        _vigilctl_rule_words "$prev" "$cur"
                    fi ;;
                add)
                    _vigilctl_rule_words "$prev" "$cur" ;;
                import)
                    ((${#args[@]} == 0)) && { _filedir; COMPREPLY+=($(compgen -W '-' -- "$cur")); } ;;
                export)
                    ((${#args[@]} == 0)) && _filedir ;;
            esac
            ;;
        captures)
            # "rm" first, then ids (vigilctl captures lists them; root only)
            if [[ $prev == captures ]]; then
                COMPREPLY=($(compgen -W 'rm' -- "$cur"))
            fi
            ;;
        config)
            case $cur in
                default-action=*)
                    COMPREPLY=($(compgen -W 'allow deny' -- "${cur#*=}")) ;;
                fail-mode=*)
                    COMPREPLY=($(compgen -W 'open closed' -- "${cur#*=}")) ;;
                prompt-timeout=*) ;;
                *)
                    COMPREPLY=($(compgen -W 'default-action= prompt-timeout= fail-mode=' -- "$cur"))
                    compopt -o nospace 2>/dev/null ;;
            esac
            ;;
    esac
} &&
    complete -F _vigilctl vigilctl
