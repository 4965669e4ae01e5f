from snakedis.cli import main

main()
