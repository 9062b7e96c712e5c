import TimebokXML
