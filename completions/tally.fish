# fish completion for tally.  Every answer comes from `tally __complete`
# (src/cli/complete.c); fish shows the descriptions it sends.

function __tally_complete
	set -l tokens (commandline -opc)
	set -l current (commandline -ct)
	set -l out ($tokens[1] __complete -- $tokens[2..-1] $current 2>/dev/null)
	or return
	set -l directive $out[-1]
	set -e out[-1]
	switch $directive
		case :files
			__fish_complete_path $current
		case :dirs
			__fish_complete_directories $current
		case '*'
			printf '%s\n' $out
	end
end

complete -c tally -f -a '(__tally_complete)'
