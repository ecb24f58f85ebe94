using CodecLlm.Cli;

return await CliApp.RunAsync(args);
