# bash completion for tally.  Every answer comes from `tally __complete`
# (src/cli/complete.c), which knows the commands, their options, run
# references, flag and scalar names, and the flags a script declares.
# Installed into bash-completion's completions directory; or source it.

_tally() {
	local cur words cword
	if declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
		# keep NAME=VALUE and a:b in one word, as tally reads them
		_get_comp_words_by_ref -n =: cur words cword
	else
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
		cur=${COMP_WORDS[COMP_CWORD]}
	fi
	local out
	out=$("${words[0]:-tally}" __complete -- "${words[@]:1:cword-1}" "$cur" 2>/dev/null) || return 0
	local directive=${out##*$'\n'}
	[[ $out == *$'\n'* ]] && out=${out%$'\n'*} || out=""

	# bash replaces only the part of the word after its last break character
	# (=, : …): hand it candidates without what comes before
	local keep="" i
	for ((i = ${#cur} - 1; i >= 0; i--)); do
		if [[ $COMP_WORDBREAKS == *"${cur:i:1}"* ]]; then
			keep=${cur:0:i+1}
			break
		fi
	done
	COMPREPLY=()
	local line value
	while IFS= read -r line; do
		[[ -n $line ]] || continue
		value=${line%%$'\t'*}
		COMPREPLY+=("${value#"$keep"}")
	done <<<"$out"

	case $directive in
	:files) compopt -o default 2>/dev/null; COMPREPLY=() ;;
	:dirs) compopt -o dirnames 2>/dev/null; COMPREPLY=() ;;
	:nospace) compopt -o nospace 2>/dev/null ;;
	esac
	return 0
}
complete -F _tally tally
